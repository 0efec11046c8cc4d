import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

type Env = Readonly<Record<string, string | undefined>>;
type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const WILDCARDS = new Set(['::', '0.0.0.0', '']);

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * The URLs a person can open to reach the front door: `https://$RAILWAY_PUBLIC_DOMAIN` when set, then
 * for a wildcard HOST every address of this machine (localhost first, then each interface's
 * addresses; IPv6 ones only when HOST is `::`), else HOST itself. Link-local IPv6 addresses are left
 * out (they need a zone id a browser does not take).
 */
export function publicUrls(host: string, port: number, env: Env, interfaces: Interfaces = networkInterfaces()): string[] {
  const urls: string[] = [];
  const domain = env['RAILWAY_PUBLIC_DOMAIN']?.trim();
  if (domain) urls.push(`https://${domain}/`);
  if (!WILDCARDS.has(host)) {
    urls.push(`http://${hostPart(host)}:${port}/`);
    return urls;
  }
  urls.push(`http://localhost:${port}/`);
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      if (entry.family === 'IPv6' && (host !== '::' || entry.address.toLowerCase().startsWith('fe80:'))) continue;
      const url = `http://${hostPart(entry.address)}:${port}/`;
      if (!urls.includes(url)) urls.push(url);
    }
  }
  return urls;
}
