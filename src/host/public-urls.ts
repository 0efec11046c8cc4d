import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { isWildcardHost } from './loopback.js';

type Env = Readonly<Record<string, string | undefined>>;
type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * The URLs a person can open to reach the front door, shortest list first:
 * - the platform's public domain (`https://$RAILWAY_PUBLIC_DOMAIN/`) alone when there is one: the
 *   container's own addresses and its localhost are not what anybody outside can open;
 * - else, for a wildcard HOST, localhost and the address of the interface that holds the default
 *   route (the LAN address another machine uses), never every interface: other containers'
 *   bridges, docker0 and VPN links are noise at best;
 * - else HOST itself.
 * `defaultRouteInterface` is the name from /proc/net/route (null: unknown, only localhost is listed).
 */
export function publicUrls(
  host: string,
  port: number,
  env: Env,
  interfaces: Interfaces = networkInterfaces(),
  defaultRouteInterface: string | null = readDefaultRouteInterface(),
): string[] {
  const domain = env['RAILWAY_PUBLIC_DOMAIN']?.trim();
  if (domain) return [`https://${domain}/`];
  if (!isWildcardHost(host)) return [`http://${hostPart(host)}:${port}/`];
  const urls = [`http://localhost:${port}/`];
  const lan = (defaultRouteInterface === null ? [] : (interfaces[defaultRouteInterface] ?? [])).find((entry) => !entry.internal && entry.family === 'IPv4');
  if (lan !== undefined) urls.push(`http://${lan.address}:${port}/`);
  return urls;
}

/** The interface of the IPv4 default route (destination 00000000) in /proc/net/route, or null. */
export function defaultRouteOf(routeTable: string): string | null {
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , , , , metric] = line.trim().split(/\s+/);
    if (iface !== undefined && destination === '00000000' && metric !== undefined) return iface;
  }
  return null;
}

function readDefaultRouteInterface(): string | null {
  try {
    return defaultRouteOf(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return null;
  }
}
