import net from 'node:net';

/**
 * The addresses the supervisor names: loopback, where the gateway listens and is reached, and the
 * wildcards a listener binds to for every interface. One place, so that a check for "loopback" or
 * "all interfaces" means the same everywhere.
 */

/** IPv4 loopback: the gateway listens there only, so every local connection to it uses this. */
export const LOOPBACK_IPV4 = '127.0.0.1';
export const LOOPBACK_IPV6 = '::1';
/** Both loopback addresses, e.g. the gateway's trusted proxies (the front door connects from loopback). */
export const LOOPBACK_ADDRESSES: readonly string[] = [LOOPBACK_IPV4, LOOPBACK_IPV6];

/** Every interface, IPv4 and IPv6 (a dual-stack listener). */
export const ALL_INTERFACES = '::';
/** Every IPv4 interface: where an `::` listener falls back on a host without IPv6. */
export const ALL_IPV4_INTERFACES = '0.0.0.0';

/** A HOST that binds every interface (`::`, `0.0.0.0`, or empty as Node reads it). */
export function isWildcardHost(host: string): boolean {
  return host === ALL_INTERFACES || host === ALL_IPV4_INTERFACES || host === '';
}

/** The address a local client uses for a listener bound to `host`: IPv4 loopback for a wildcard (a `::` listener accepts IPv4 too, and falls back to 0.0.0.0 without IPv6). */
export function localAddressFor(host: string): string {
  return isWildcardHost(host) ? LOOPBACK_IPV4 : host;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress(LOOPBACK_IPV6, 'ipv6');

/** Any spelling of a loopback address (`127.0.0.2`, `0:0:0:0:0:0:0:1`, `::ffff:127.0.0.1`); false for anything that is no IP address. */
export function isLoopback(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
