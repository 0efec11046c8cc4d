import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';

const CLIENT = '203.0.113.7';
import {
  RELAYED_LOOPBACK_CLIENT,
  attributeClient,
  canonicalAddress,
  createTrustCheck,
  normalizeAddress,
  type Attribution,
  type ForwardableAttribution,
  type LoopbackClients,
} from '../../../src/front-door/client-attribution.js';
import { isLoopback } from '../../../src/host/loopback.js';
import { upstreamRequest } from '../../../src/front-door/upstream-request.js';

const rawOf = (incoming: IncomingHttpHeaders): string[] =>
  Object.entries(incoming).flatMap(([name, value]) => (Array.isArray(value) ? value.flatMap((v) => [name, v]) : value === undefined ? [] : [name, value]));

const PROXY = '10.0.0.5';
const TRUSTED = createTrustCheck([`${PROXY}/32`, '100.64.0.0/24']);

/** The decision for a request from `peer` with these headers, SUPERVISOR_TRUSTED_PROXIES=10.0.0.5/32,100.64.0.0/24. */
function attribute(peer: string, incoming: IncomingHttpHeaders, loopbackClients: LoopbackClients = 'local'): Attribution {
  return attributeClient({ httpVersion: '1.1', rawHeaders: rawOf(incoming) }, peer, { trustedProxies: TRUSTED, loopbackClients });
}

/** The flat upstream header list as an object (repeated names as arrays), from Node-style headers. */
function forwardedHeaders(incoming: IncomingHttpHeaders, peer: string | ForwardableAttribution = CLIENT, kind: 'http' | 'websocket' = 'http'): Record<string, string | string[]> {
  const head = { method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: rawOf(incoming) };
  const attribution = typeof peer === 'string' ? attributeClient(head, peer, { trustedProxies: TRUSTED, loopbackClients: 'local' }) : peer;
  if (attribution.kind === 'refused') throw new Error(`refused: ${attribution.message}`);
  const list = upstreamRequest(head, attribution, kind).headers;
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.length; i += 2) {
    const [name, value] = [list[i]!, list[i + 1]!];
    const had = out[name];
    out[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return out;
}

describe('normalizeAddress', () => {
  it.each<[string | undefined, string]>([
    [undefined, ''],
    ['', ''],
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::1', '::1'],
    ['::ffff:abcd', '::ffff:abcd'],
  ])('%j → %j', (input, output) => {
    expect(normalizeAddress(input)).toBe(output);
  });
});

describe('createTrustCheck', () => {
  it.each<[string, string[], string, boolean]>([
    ['nobody is trusted by default', [], '10.0.0.1', false],
    ['nobody by default, not even loopback', [], '127.0.0.1', false],
    ['IPv4 in range', ['10.0.0.0/8'], '10.200.3.4', true],
    ['IPv4 out of range', ['10.0.0.0/8'], '11.0.0.1', false],
    ['IPv4-mapped IPv6 peer in an IPv4 range', ['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    ['IPv4-mapped IPv6 peer out of range', ['10.0.0.0/8'], '::ffff:192.168.1.1', false],
    ['single IPv4 address', ['100.64.0.7'], '100.64.0.7', true],
    ['single IPv4 address, neighbour', ['100.64.0.7'], '100.64.0.8', false],
    ['/32', ['100.64.0.7/32'], '100.64.0.7', true],
    ['IPv6 range', ['fd00::/8'], 'fd12:3456::1', true],
    ['IPv6 range, outside', ['fd00::/8'], 'fe80::1', false],
    ['single IPv6 address', ['::1'], '::1', true],
    ['IPv4 peer against an IPv6-only list', ['fd00::/8'], '10.0.0.1', false],
    ['second entry of a list', ['192.168.0.0/16', '172.16.0.0/12'], '172.20.1.1', true],
    ['IPv4-mapped entry matches the plain IPv4 peer', ['::ffff:10.0.0.1'], '10.0.0.1', true],
    ['everything', ['0.0.0.0/0'], '198.51.100.1', true],
    ['an empty address', ['0.0.0.0/0'], '', false],
    ['not an address', ['0.0.0.0/0'], 'localhost', false],
  ])('%s', (_name, cidrs, address, trusted) => {
    expect(createTrustCheck(cidrs)(address)).toBe(trusted);
  });
});


const remote = (client: string, source: 'peer' | 'forwarded' | 'relay', extra: Partial<Extract<Attribution, { kind: 'remote' }>> = {}): Attribution => ({
  kind: 'remote',
  client,
  source,
  proto: 'http',
  host: 'app.example',
  replaced: false,
  ...extra,
});
const refusedWith = (code: string): Partial<Attribution> => ({ kind: 'refused', code } as Partial<Attribution>);

describe('isLoopback and canonicalAddress', () => {
  it.each<[string, boolean, string | null]>([
    ['127.0.0.1', true, '127.0.0.1'],
    ['127.8.9.10', true, '127.8.9.10'],
    ['::1', true, '::1'],
    ['0:0:0:0:0:0:0:1', true, '::1'],
    ['::ffff:127.0.0.1', true, '127.0.0.1'],
    ['::ffff:7f00:1', true, '127.0.0.1'],
    ['203.0.113.7', false, '203.0.113.7'],
    ['2001:DB8:0::7', false, '2001:db8::7'],
    ['fe80::1%eth0', false, null],
    ['010.0.0.1', false, null],
    ['localhost', false, null],
    ['', false, null],
  ])('%j: loopback %j, canonical %j', (address, loopback, canonical) => {
    expect(isLoopback(address)).toBe(loopback);
    expect(canonicalAddress(address)).toBe(canonical);
  });
});

/**
 * The decision, row by row. Peers: an internet client (untrusted), a proxy on this host (loopback,
 * trusted by default), a proxy in SUPERVISOR_TRUSTED_PROXIES. The rule the gateway applies too:
 * X-Forwarded-For right to left, skipping trusted hops (loopback always); the first untrusted hop is
 * the client; whatever cannot be attributed is refused, never local.
 */
describe('attributeClient', () => {
  const H = { host: 'app.example' };
  it.each<[string, string, IncomingHttpHeaders, LoopbackClients, Partial<Attribution>]>([
    // An untrusted peer is the client; its claims are dropped.
    ['untrusted peer, no claims', CLIENT, H, 'local', remote(CLIENT, 'peer')],
    ['untrusted peer claiming loopback', CLIENT, { ...H, 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' }, 'local', remote(CLIENT, 'peer', { replaced: true })],
    ['untrusted peer with X-Real-IP only (not logged as replaced)', CLIENT, { ...H, 'x-real-ip': '127.0.0.1' }, 'local', remote(CLIENT, 'peer')],
    ['untrusted IPv4-mapped peer', `::ffff:${CLIENT}`, H, 'local', remote(CLIENT, 'peer')],
    ['any 127.x peer is loopback: local', '127.0.0.2', H, 'local', { kind: 'local' }],
    // A client on this host.
    ['loopback, no forwarding header: local', '127.0.0.1', H, 'local', { kind: 'local' }],
    ['::1, no forwarding header: local', '::1', H, 'local', { kind: 'local' }],
    ['IPv4-mapped loopback: local', '::ffff:127.0.0.1', H, 'local', { kind: 'local' }],
    // A proxy on this host (nginx $proxy_add_x_forwarded_for, Caddy, Tailscale Serve, cloudflared).
    ['loopback proxy names the client', '127.0.0.1', { ...H, 'x-forwarded-for': CLIENT }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: its proto and host are kept', '::1', { ...H, 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'claw.example' }, 'local', remote(CLIENT, 'forwarded', { proto: 'https', host: 'claw.example' })],
    ['loopback proxy: a client claim of loopback left of the client is not read', '127.0.0.1', { ...H, 'x-forwarded-for': `127.0.0.1, ${CLIENT}` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: garbage left of the client is not read', '127.0.0.1', { ...H, 'x-forwarded-for': `not-an-ip, ${CLIENT}` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy behind a trusted proxy: both skipped', '127.0.0.1', { ...H, 'x-forwarded-for': `${CLIENT}, ${PROXY}` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: loopback hops skipped (a chain of local proxies)', '127.0.0.1', { ...H, 'x-forwarded-for': `${CLIENT}, 127.0.0.1, ::1` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: X-Forwarded-For over two lines', '127.0.0.1', { ...H, 'x-forwarded-for': [CLIENT, '127.0.0.1'] }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: an item with a port', '127.0.0.1', { ...H, 'x-forwarded-for': `${CLIENT}:51000` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: a bracketed IPv6 item with a port', '127.0.0.1', { ...H, 'x-forwarded-for': '[2001:DB8::7]:443' }, 'local', remote('2001:db8::7', 'forwarded')],
    ['loopback proxy: an IPv4-mapped item', '127.0.0.1', { ...H, 'x-forwarded-for': `::ffff:${CLIENT}` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy: empty items dropped', '127.0.0.1', { ...H, 'x-forwarded-for': ` , ${CLIENT} ,, ` }, 'local', remote(CLIENT, 'forwarded')],
    ['loopback proxy naming a trusted proxy only: that proxy made the request', '127.0.0.1', { ...H, 'x-forwarded-for': PROXY }, 'local', remote(PROXY, 'forwarded')],
    // Refused: speaks for someone without naming them.
    ['loopback proxy naming loopback (nginx $remote_addr for a local client)', '127.0.0.1', { ...H, 'x-forwarded-for': '127.0.0.1' }, 'local', refusedWith('loopback_chain')],
    ['loopback proxy naming only loopback hops', '::1', { ...H, 'x-forwarded-for': '::1, 127.0.0.1' }, 'local', refusedWith('loopback_chain')],
    ['loopback proxy naming an IPv4-mapped loopback', '127.0.0.1', { ...H, 'x-forwarded-for': '::ffff:127.0.0.1' }, 'local', refusedWith('loopback_chain')],
    ['loopback proxy naming a long-form IPv6 loopback', '127.0.0.1', { ...H, 'x-forwarded-for': '0:0:0:0:0:0:0:1' }, 'local', refusedWith('loopback_chain')],
    ['loopback proxy with a name instead of an address', '127.0.0.1', { ...H, 'x-forwarded-for': 'localhost' }, 'local', refusedWith('not_an_address')],
    ['loopback proxy: garbage right of the client', '127.0.0.1', { ...H, 'x-forwarded-for': `${CLIENT}, unknown` }, 'local', refusedWith('not_an_address')],
    ['loopback proxy: an IPv6 zone id', '127.0.0.1', { ...H, 'x-forwarded-for': 'fe80::1%eth0' }, 'local', refusedWith('not_an_address')],
    ['loopback proxy: legacy IPv4 form', '127.0.0.1', { ...H, 'x-forwarded-for': '0x7f.0.0.1' }, 'local', refusedWith('not_an_address')],
    ['loopback proxy: X-Real-IP without X-Forwarded-For', '127.0.0.1', { ...H, 'x-real-ip': CLIENT }, 'local', refusedWith('no_x_forwarded_for')],
    ['loopback proxy: Forwarded without X-Forwarded-For', '127.0.0.1', { ...H, forwarded: `for=${CLIENT}` }, 'local', refusedWith('no_x_forwarded_for')],
    ['loopback proxy: X-Forwarded-Proto without X-Forwarded-For', '::1', { ...H, 'x-forwarded-proto': 'https' }, 'local', refusedWith('no_x_forwarded_for')],
    ['loopback proxy: a blank X-Forwarded-For', '127.0.0.1', { ...H, 'x-forwarded-for': ' , ' }, 'local', refusedWith('no_x_forwarded_for')],
    // SUPERVISOR_LOOPBACK_CLIENTS=remote: a loopback peer is a relay passing its client's bytes (ssh -L,
    // socat), so its headers are the client's own claims: dropped, the client is the placeholder.
    ['setting remote: a headerless loopback client is remote', '127.0.0.1', H, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay')],
    ['setting remote: ::1 as well', '::1', H, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay')],
    ['setting remote: a relayed client naming an address of its choice does not get it', '127.0.0.1', { ...H, 'x-forwarded-for': '10.0.0.5' }, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay', { replaced: true })],
    ['setting remote: nor a public one, nor a chain', '::1', { ...H, 'x-forwarded-for': `${CLIENT}, 127.0.0.1`, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay', { replaced: true })],
    ['setting remote: a relayed loopback claim is dropped, not refused', '127.0.0.1', { ...H, 'x-forwarded-for': '127.0.0.1' }, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay', { replaced: true })],
    ['setting remote: X-Real-IP alone is dropped too', '127.0.0.1', { ...H, 'x-real-ip': CLIENT }, 'remote', remote(RELAYED_LOOPBACK_CLIENT, 'relay')],
    ['setting remote: untrusted peers unchanged', CLIENT, H, 'remote', remote(CLIENT, 'peer')],
    ['setting remote: a trusted proxy still names its client', PROXY, { ...H, 'x-forwarded-for': CLIENT }, 'remote', remote(CLIENT, 'forwarded')],
    // A proxy in SUPERVISOR_TRUSTED_PROXIES.
    ['trusted proxy names the client', PROXY, { ...H, 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'https' }, 'local', remote(CLIENT, 'forwarded', { proto: 'https' })],
    ['trusted proxy: its own request (no X-Forwarded-For) is the proxy, remote', PROXY, H, 'local', remote(PROXY, 'peer')],
    ['trusted proxy: the first untrusted hop from the right', PROXY, { ...H, 'x-forwarded-for': `198.51.100.1, ${CLIENT}, 100.64.0.9` }, 'local', remote(CLIENT, 'forwarded')],
    ['trusted proxy: an untrusted PoP is the client (Railway, PoP not trusted)', '100.64.0.2', { ...H, 'x-forwarded-for': `${CLIENT}, 79.127.151.146` }, 'local', remote('79.127.151.146', 'forwarded')],
    ['trusted proxy naming loopback', PROXY, { ...H, 'x-forwarded-for': '127.0.0.1' }, 'local', refusedWith('loopback_chain')],
    ['trusted proxy: X-Real-IP without X-Forwarded-For', PROXY, { ...H, 'x-real-ip': CLIENT }, 'local', refusedWith('no_x_forwarded_for')],
    ['trusted proxy: a name in the walk', PROXY, { ...H, 'x-forwarded-for': `${CLIENT}, edge.internal` }, 'local', refusedWith('not_an_address')],
  ])('%s', (_name, peer, incoming, loopbackClients, expected) => {
    expect(attribute(peer, incoming, loopbackClients)).toMatchObject(expected);
  });

  // SUPERVISOR_LOOPBACK_CLIENTS=remote with 127.0.0.1 in SUPERVISOR_TRUSTED_PROXIES (a proxy on this host that
  // names its clients): that loopback address speaks for clients again; other loopback peers do not.
  const LISTED = createTrustCheck(['127.0.0.1']);
  it.each<[string, string, IncomingHttpHeaders, Partial<Attribution>]>([
    ['listed loopback proxy names the client', '127.0.0.1', { ...H, 'x-forwarded-for': CLIENT }, remote(CLIENT, 'forwarded')],
    ['listed loopback proxy: refusals stand', '127.0.0.1', { ...H, 'x-forwarded-for': '127.0.0.1' }, refusedWith('loopback_chain')],
    ['listed loopback proxy: X-Real-IP without X-Forwarded-For', '127.0.0.1', { ...H, 'x-real-ip': CLIENT }, refusedWith('no_x_forwarded_for')],
    ['listed loopback proxy, no header: remote, never local', '127.0.0.1', H, remote(RELAYED_LOOPBACK_CLIENT, 'relay')],
    ['an unlisted loopback address is still a relay', '::1', { ...H, 'x-forwarded-for': CLIENT }, remote(RELAYED_LOOPBACK_CLIENT, 'relay', { replaced: true })],
  ])('setting remote, 127.0.0.1 listed: %s', (_name, peer, incoming, expected) => {
    expect(attributeClient({ httpVersion: '1.1', rawHeaders: rawOf(incoming) }, peer, { trustedProxies: LISTED, loopbackClients: 'remote' })).toMatchObject(expected);
  });

  it('a refusal says what is wrong, bounded, without echoing a long item', () => {
    const result = attribute('127.0.0.1', { 'x-forwarded-for': `${'x'.repeat(500)}` });
    expect(result).toMatchObject({ kind: 'refused', code: 'not_an_address' });
    expect((result as { message: string }).message.length).toBeLessThan(200);
  });

  it('the relay placeholder is a documentation address the gateway takes as public, not loopback or private', () => {
    expect(RELAYED_LOOPBACK_CLIENT).toMatch(/^192\.0\.2\.\d+$/);
    expect(isLoopback(RELAYED_LOOPBACK_CLIENT)).toBe(false);
  });
});

const attributionOf = (headers: Record<string, string | string[]>): Record<string, string | string[]> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-forwarded-')));

/** Forged attribution a client on the internet might send. */
const FORGED: IncomingHttpHeaders = {
  'x-forwarded-for': '127.0.0.1',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-port': '443',
  'x-real-ip': '127.0.0.1',
  forwarded: 'for=127.0.0.1;proto=https',
};

describe('forwardedHeaders: an untrusted peer', () => {
  it('replaces every attribution header it sent with its real address', () => {
    expect(forwardedHeaders({ host: 'app.example', accept: '*/*', ...FORGED })).toEqual({
      host: 'app.example',
      accept: '*/*',
      'x-forwarded-for': CLIENT,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example',
    });
  });

  it.each<[string, IncomingHttpHeaders]>([
    ['x-forwarded-for', { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' }],
    ['x-forwarded-proto', { 'x-forwarded-proto': 'https' }],
    ['x-forwarded-host', { host: 'real.example', 'x-forwarded-host': 'evil.example' }],
    ['x-forwarded-port', { 'x-forwarded-port': '443' }],
    ['x-real-ip', { 'x-real-ip': '127.0.0.1' }],
    ['forwarded', { forwarded: 'for=127.0.0.1' }],
  ])('never passes a forged %s', (_name, incoming) => {
    const out = forwardedHeaders(incoming);
    expect(out['x-forwarded-for']).toBe(CLIENT);
    expect(out['x-forwarded-proto']).toBe('http');
    expect(out['x-forwarded-host']).toBe(incoming.host);
    expect(out).not.toHaveProperty('x-forwarded-port');
    expect(out).not.toHaveProperty('x-real-ip');
    expect(out).not.toHaveProperty('forwarded');
  });

  it('leaves out x-forwarded-host when there is no Host', () => {
    expect(forwardedHeaders({})).toEqual({ 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http' });
  });

  it('uses an IPv6 peer address as is', () => {
    expect(forwardedHeaders({}, '2001:db8::7')['x-forwarded-for']).toBe('2001:db8::7');
  });
});

describe('forwardedHeaders: a trusted proxy', () => {
  it('sends the one client it resolved (the gateway trusts only loopback); takes the proxy proto and host', () => {
    const out = forwardedHeaders({ host: 'internal:8080', ...FORGED, 'x-forwarded-for': `198.51.100.2, ${CLIENT}` }, PROXY);
    expect(out).toEqual({
      host: 'internal:8080',
      'x-forwarded-for': CLIENT,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
  });

  it.each<[string, IncomingHttpHeaders, Record<string, string>]>([
    ['no chain: the proxy itself is the client', { host: 'h' }, { 'x-forwarded-for': PROXY, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'h' }],
    ['chain trimmed', { 'x-forwarded-for': ` ${CLIENT} ` }, { 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http' }],
    ['Host when it sends no x-forwarded-host', { host: 'h', 'x-forwarded-for': CLIENT }, { 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'h' }],
  ])('%s', (_name, incoming, attribution) => {
    expect(attributionOf(forwardedHeaders(incoming, PROXY))).toEqual(attribution);
  });

  it('still drops X-Real-IP, Forwarded and X-Forwarded-Port', () => {
    const out = forwardedHeaders({ ...FORGED, 'x-forwarded-for': CLIENT }, PROXY);
    expect(Object.keys(out).sort()).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  it('trusted via an IPv4-mapped socket address, end to end', () => {
    expect(forwardedHeaders({ 'x-forwarded-for': CLIENT }, `::ffff:${PROXY}`)['x-forwarded-for']).toBe(CLIENT);
  });
});

describe('forwardedHeaders: a local client', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1'])('%s without forwarding headers gets no attribution headers at all', (address) => {
    expect(forwardedHeaders({ host: 'localhost:8080', 'x-keep': '1' }, address)).toEqual({ host: 'localhost:8080', 'x-keep': '1' });
  });

  it('a proxy on this host that names a client: the client, never local', () => {
    expect(forwardedHeaders({ 'x-forwarded-for': CLIENT, 'x-real-ip': CLIENT }, '127.0.0.1')).toEqual({ 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http' });
  });

  it('a relay client under SUPERVISOR_LOOPBACK_CLIENTS=remote gets the placeholder', () => {
    const relay = attributeClient({ httpVersion: '1.1', rawHeaders: ['host', 'localhost:8080'] }, '127.0.0.1', { trustedProxies: TRUSTED, loopbackClients: 'remote' });
    expect(forwardedHeaders({ host: 'localhost:8080' }, relay as ForwardableAttribution)).toEqual({
      host: 'localhost:8080',
      'x-forwarded-for': RELAYED_LOOPBACK_CLIENT,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'localhost:8080',
    });
  });
});

describe('forwardedHeaders: hop-by-hop headers', () => {
  const HOP_BY_HOP: IncomingHttpHeaders = {
    connection: 'keep-alive, x-private-hop',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    'proxy-authorization': 'Basic abc',
    te: 'trailers',
    trailer: 'x-checksum',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    'x-private-hop': '1',
  };

  it('drops every standard hop-by-hop header and those named in Connection', () => {
    const out = forwardedHeaders({ host: 'h', authorization: 'Bearer t', cookie: 'a=b', ...HOP_BY_HOP });
    expect(Object.keys(out).sort()).toEqual(['authorization', 'cookie', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  it('matches Connection tokens case-insensitively and with spaces', () => {
    const out = forwardedHeaders({ connection: ' X-Drop-Me ,Keep-Alive', 'x-drop-me': '1', 'x-keep-me': '2' });
    expect(out).not.toHaveProperty('x-drop-me');
    expect(out['x-keep-me']).toBe('2');
  });

  it('never lets Connection remove Host', () => {
    const out = forwardedHeaders({ connection: 'close, host', host: 'app.example' });
    expect(out['host']).toBe('app.example');
    expect(out['x-forwarded-host']).toBe('app.example');
  });

  it('keeps multi-valued headers as arrays', () => {
    expect(forwardedHeaders({ 'set-cookie': ['a=1', 'b=2'] })['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('does not modify the incoming headers', () => {
    const incoming: IncomingHttpHeaders = { host: 'h', ...FORGED, ...HOP_BY_HOP };
    const copy = structuredClone(incoming);
    forwardedHeaders(incoming);
    expect(incoming).toEqual(copy);
  });
});

describe('forwardedHeaders: WebSocket upgrades', () => {
  const UPGRADE: IncomingHttpHeaders = {
    host: 'app.example',
    connection: 'keep-alive, Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    'sec-websocket-protocol': 'openclaw',
    origin: 'https://app.example',
    'keep-alive': 'timeout=5',
  };

  it("keeps the WebSocket handshake headers and replaces Connection and Upgrade with this hop's own", () => {
    expect(forwardedHeaders(UPGRADE, CLIENT, 'websocket')).toEqual({
      host: 'app.example',
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'openclaw',
      origin: 'https://app.example',
      'x-forwarded-for': CLIENT,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example',
    });
  });

  it('still replaces forged attribution on an upgrade', () => {
    const out = forwardedHeaders({ ...UPGRADE, ...FORGED }, CLIENT, 'websocket');
    expect(out['x-forwarded-for']).toBe(CLIENT);
    expect(out).not.toHaveProperty('x-real-ip');
    expect(out).not.toHaveProperty('forwarded');
  });
});
