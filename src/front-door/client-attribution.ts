import net from 'node:net';
import { endToEndRequestHeaders, type RequestHead } from './headers.js';

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

const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');

/**
 * The headers to send upstream, as a flat name/value list: the request's end-to-end headers
 * (headers.ts) and the client attribution rebuilt. The gateway trusts only loopback (plus
 * SUPERVISOR_TRUSTED_PROXIES) and takes the client from X-Forwarded-For, right to left (measured
 * on 2026.9.6), so:
 * - a local client (loopback peer, no trusted chain) is sent with no forwarding header at all, as
 *   the gateway would see it directly (an X-Forwarded-For of 127.0.0.1 would be refused with 403);
 * - anyone else gets X-Forwarded-For built from the real peer; a trusted proxy's chain is kept and
 *   the peer appended, an untrusted peer's claims are dropped, so the internet never looks local.
 * X-Real-IP and Forwarded are never passed: the gateway does not read them, only refuses them alone.
 */
export function forwardedHeaders(head: RequestHead, peer: Peer): string[] {
  const headers = endToEndRequestHeaders(head);
  const chain = peer.trusted ? joined(head.rawHeaders, 'x-forwarded-for') : undefined;
  if (!chain && isLoopback(peer.address)) return headers;
  headers.push('x-forwarded-for', chain ? `${chain}, ${peer.address}` : peer.address);
  headers.push('x-forwarded-proto', (peer.trusted && joined(head.rawHeaders, 'x-forwarded-proto')) || 'http');
  const host = (peer.trusted && joined(head.rawHeaders, 'x-forwarded-host')) || joined(head.rawHeaders, 'host');
  if (host) headers.push('x-forwarded-host', host);
  return headers;
}

/** A list header's lines joined as one value (RFC 9110 §5.3), trimmed; undefined when absent or empty. */
function joined(raw: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    // Empty list items (`X-Forwarded-For: , ,`) are dropped, as RFC 9110 §5.6.1 says a recipient may.
    for (const item of raw[i + 1]!.split(',')) {
      const part = item.trim();
      if (part) value = value === undefined ? part : `${value}, ${part}`;
    }
  }
  return value;
}
