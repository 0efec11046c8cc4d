import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/** Headers the front door derives itself; what a client sends under these names is replaced. */
const ATTRIBUTION_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded'];

export type TrustCheck = (address: string) => boolean;

/** `::ffff:203.0.113.7` (an IPv4 peer of a dual-stack socket) → `203.0.113.7`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function createTrustCheck(cidrs: readonly string[]): TrustCheck {
  if (cidrs.length === 0) return () => false;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const type = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const normalized = normalizeAddress(address);
    const type = net.isIPv6(normalized) ? 'ipv6' : 'ipv4';
    return net.isIP(normalized) !== 0 && list.check(normalized, type);
  };
}

export interface Peer {
  readonly address: string;
  readonly trusted: boolean;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');

/**
 * The headers to send upstream: hop-by-hop headers dropped and the client attribution rebuilt.
 * The gateway trusts only loopback (plus SUPERVISOR_TRUSTED_PROXIES) and takes the client from
 * X-Forwarded-For, right to left (measured on 2026.9.6), so:
 * - a local client (loopback peer, no trusted chain) is sent with no forwarding header at all, as
 *   the gateway would see it directly (an X-Forwarded-For of 127.0.0.1 would be refused with 403);
 * - anyone else gets X-Forwarded-For built from the real peer; a trusted proxy's chain is kept and
 *   the peer appended, an untrusted peer's claims are dropped, so the internet never looks local.
 * X-Real-IP and Forwarded are never passed: the gateway does not read them, only refuses them alone.
 */
export function forwardedHeaders(incoming: IncomingHttpHeaders, peer: Peer, keepUpgrade: boolean): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
  // Connection may name further hop-by-hop headers, but never Host: the gateway routes and checks origins by it.
  for (const token of (first(incoming.connection) ?? '').split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== 'host') hopByHop.add(name);
  }
  if (keepUpgrade) {
    hopByHop.delete('upgrade');
    hopByHop.delete('connection');
  }
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || hopByHop.has(name) || ATTRIBUTION_HEADERS.includes(name)) continue;
    headers[name] = value;
  }
  if (keepUpgrade) {
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = first(incoming.upgrade) ?? 'websocket';
  }
  const chain = peer.trusted ? first(incoming['x-forwarded-for'])?.trim() : undefined;
  if (!chain && isLoopback(peer.address)) return headers;
  headers['x-forwarded-for'] = chain ? `${chain}, ${peer.address}` : peer.address;
  headers['x-forwarded-proto'] = (peer.trusted && first(incoming['x-forwarded-proto'])) || 'http';
  const host = (peer.trusted && first(incoming['x-forwarded-host'])) || first(incoming.host);
  if (host) headers['x-forwarded-host'] = host;
  return headers;
}
