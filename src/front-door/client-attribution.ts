import net from 'node:net';
import type { RequestHead } from './headers.js';
import { isLoopback } from '../host/loopback.js';

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

/**
 * SUPERVISOR_LOOPBACK_CLIENTS. `local`: a loopback peer that sends no forwarding header is a client
 * on this host. `remote`: it is a relay that cannot say for whom it speaks (ssh -L, socat,
 * kubectl port-forward, a TCP tunnel), so every such client is remote.
 */
export type LoopbackClients = 'local' | 'remote';

export interface AttributionPolicy {
  /**
   * SUPERVISOR_TRUSTED_PROXIES. Under `local`, loopback is trusted on top of it: a same-host proxy's
   * headers can only make a client less local. Under `remote`, a loopback peer is trusted only when listed here.
   */
  readonly trustedProxies: TrustCheck;
  readonly loopbackClients: LoopbackClients;
}

/**
 * The address the gateway is given for a loopback client under SUPERVISOR_LOOPBACK_CLIENTS=remote.
 * The gateway has no way to hear "remote, address unknown": a loopback address in X-Forwarded-For is
 * refused (403 proxy_attribution_required), no header makes the client local. So it gets an address
 * from TEST-NET-1 (RFC 5737, documentation only, never routed): public to the gateway (not private,
 * so no LAN-only auto-approval or probe applies), paired like any remote device, and recognisable in
 * `devices` and the pairing record. All relayed clients share it, for lockouts too.
 */
export const RELAYED_LOOPBACK_CLIENT = '192.0.2.1';

export type RefusalCode = 'loopback_chain' | 'not_an_address' | 'no_x_forwarded_for';

/** Who the client is, decided from the peer and what it says (pure). */
export type Attribution =
  /** A client on this host: forwarded with no forwarding header, as the gateway would see it directly. */
  | { readonly kind: 'local' }
  | {
      readonly kind: 'remote';
      readonly client: string;
      /**
       * peer: the connection's own address (an untrusted peer, or a trusted proxy's own request);
       * forwarded: taken from a trusted proxy's X-Forwarded-For; relay: RELAYED_LOOPBACK_CLIENT.
       */
      readonly source: 'peer' | 'forwarded' | 'relay';
      readonly proto: string;
      readonly host: string | undefined;
      /** An untrusted peer sent forwarding headers, which were dropped. */
      readonly replaced: boolean;
    }
  /** A trusted peer speaks for someone it does not name well enough: never guessed, never local. */
  | { readonly kind: 'refused'; readonly code: RefusalCode; readonly message: string };

export type ForwardableAttribution = Exclude<Attribution, { readonly kind: 'refused' }>;

const FORWARDING: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded']);

/**
 * Who the client is. The peer is trusted when it is in SUPERVISOR_TRUSTED_PROXIES, or loopback
 * under `local`; an untrusted peer is the client and its claims are dropped (an unlisted loopback
 * peer under `remote` is a relay: RELAYED_LOOPBACK_CLIENT). A trusted peer's X-Forwarded-For is read
 * right to left, skipping trusted hops (loopback always); the first untrusted hop is the client
 * (what the gateway itself does). Refused: a trusted peer's forwarding headers without
 * X-Forwarded-For, a hop on that walk that is not an IP address, a chain of loopback hops only
 * (`X-Forwarded-For: 127.0.0.1`: the gateway refuses it too). Items left of the client are the
 * client's own claims and are never read.
 */
export function attributeClient(head: RequestHead, peerAddress: string, policy: AttributionPolicy): Attribution {
  const peer = canonicalAddress(peerAddress) ?? normalizeAddress(peerAddress);
  const said = forwardingOf(head.rawHeaders);
  const peerIsLoopback = isLoopback(peer);
  const host = said.host;
  const replaced = said.forwardedFor.length > 0;
  if (!peerIsLoopback && !policy.trustedProxies(peer)) {
    return { kind: 'remote', client: peer, source: 'peer', proto: 'http', host, replaced };
  }
  // `remote`: a loopback peer is a relay passing its client's bytes unchanged (ssh -L, socat), so
  // an X-Forwarded-For it carries is the client's own claim (any address it likes, a new one per
  // request); only a loopback address listed in SUPERVISOR_TRUSTED_PROXIES speaks for clients.
  if (peerIsLoopback && policy.loopbackClients === 'remote' && !policy.trustedProxies(peer)) {
    return { kind: 'remote', client: RELAYED_LOOPBACK_CLIENT, source: 'relay', proto: 'http', host, replaced };
  }
  const chain = said.forwardedFor;
  const proto = said.proto ?? 'http';
  const forwardedHost = said.forwardedHost ?? host;
  if (chain.length === 0) {
    if (said.anyForwarding) {
      return refused('no_x_forwarded_for', 'forwarding headers without X-Forwarded-For: the proxy must name the client in X-Forwarded-For');
    }
    if (!peerIsLoopback) return { kind: 'remote', client: peer, source: 'peer', proto, host: forwardedHost, replaced: false };
    // A loopback address listed in SUPERVISOR_TRUSTED_PROXIES under `remote`: a proxy's own request, never local.
    if (policy.loopbackClients === 'remote') return { kind: 'remote', client: RELAYED_LOOPBACK_CLIENT, source: 'relay', proto: 'http', host, replaced: false };
    return LOCAL;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = hopAddress(chain[i]!);
    if (hop === null) {
      return refused('not_an_address', `X-Forwarded-For item ${JSON.stringify(chain[i]!.slice(0, 64))} is not an IP address`);
    }
    if (!isLoopback(hop) && !policy.trustedProxies(hop)) return { kind: 'remote', client: hop, source: 'forwarded', proto, host: forwardedHost, replaced: false };
    if (i === 0) {
      // Every hop is trusted: the leftmost made the request itself (a trusted proxy's own request).
      if (isLoopback(hop)) {
        return refused('loopback_chain', 'X-Forwarded-For names only loopback addresses: a proxy on this host must name the client it forwards, never 127.0.0.1');
      }
      return { kind: 'remote', client: hop, source: 'forwarded', proto, host: forwardedHost, replaced: false };
    }
  }
  throw new Error('unreachable: the walk returns at its last hop');
}

/** A local client's attribution: the same for every request. */
const LOCAL: Attribution = { kind: 'local' };

function refused(code: RefusalCode, message: string): Attribution {
  return { kind: 'refused', code, message };
}

/**
 * An IP address in canonical text (IPv6 compressed and lower-case, IPv4-mapped as IPv4), or null.
 * IPv6 zone ids (`fe80::1%eth0`) are no client address.
 */
export function canonicalAddress(address: string): string | null {
  const family = net.isIP(address);
  if (family === 4) return address;
  if (family !== 6 || address.includes('%')) return null;
  const host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped === null) return host;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** One X-Forwarded-For item: an address, with the optional port some proxies add (`1.2.3.4:5678`, `[2001:db8::1]:443`). */
function hopAddress(item: string): string | null {
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(item);
  if (bracketed !== null) return net.isIPv6(bracketed[1]!) ? canonicalAddress(bracketed[1]!) : null;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(item);
  return canonicalAddress(withPort === null ? item : withPort[1]!);
}

interface Forwarding {
  readonly host: string | undefined;
  /** X-Forwarded-For's items over all its lines, trimmed, empty ones dropped (RFC 9110 §5.6.1). */
  readonly forwardedFor: string[];
  readonly proto: string | undefined;
  readonly forwardedHost: string | undefined;
  /** Any of the forwarding headers, even empty. */
  readonly anyForwarding: boolean;
}

/** What a request head says about its route, in one pass: each list header's lines joined (RFC 9110 §5.3). */
function forwardingOf(raw: readonly string[]): Forwarding {
  let host: string[] | undefined;
  let forwardedFor: string[] | undefined;
  let proto: string[] | undefined;
  let forwardedHost: string[] | undefined;
  let anyForwarding = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'host') {
      host = addItems(host, raw[i + 1]!);
      continue;
    }
    if (!FORWARDING.has(name)) continue;
    anyForwarding = true;
    if (name === 'x-forwarded-for') forwardedFor = addItems(forwardedFor, raw[i + 1]!);
    else if (name === 'x-forwarded-proto') proto = addItems(proto, raw[i + 1]!);
    else if (name === 'x-forwarded-host') forwardedHost = addItems(forwardedHost, raw[i + 1]!);
  }
  return { host: joinedItems(host), forwardedFor: forwardedFor ?? [], proto: joinedItems(proto), forwardedHost: joinedItems(forwardedHost), anyForwarding };
}

function addItems(items: string[] | undefined, value: string): string[] {
  const list = items ?? [];
  for (const item of value.split(',')) {
    const part = item.trim();
    if (part) list.push(part);
  }
  return list;
}

function joinedItems(items: string[] | undefined): string | undefined {
  return items === undefined || items.length === 0 ? undefined : items.join(', ');
}
