import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createTrustCheck, forwardedHeaders as forwardedList, normalizeAddress, type Peer } from '../../../src/front-door/client-attribution.js';

/** The flat upstream header list as an object (repeated names as arrays), from Node-style headers. */
function forwardedHeaders(incoming: IncomingHttpHeaders, peer: Peer): Record<string, string | string[]> {
  const rawHeaders = Object.entries(incoming).flatMap(([name, value]) => (Array.isArray(value) ? value.flatMap((v) => [name, v]) : value === undefined ? [] : [name, value]));
  const list = forwardedList({ httpVersion: '1.1', rawHeaders }, peer);
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

const CLIENT = '203.0.113.7';
const PROXY = '10.0.0.5';
const attributionOf = (headers: Record<string, string | string[]>): Record<string, string | string[]> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-forwarded-')));
const untrusted: Peer = { address: CLIENT, trusted: false };
const trustedProxy: Peer = { address: PROXY, trusted: true };

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
    expect(forwardedHeaders({ host: 'app.example', accept: '*/*', ...FORGED }, untrusted)).toEqual({
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
    const out = forwardedHeaders(incoming, untrusted);
    expect(out['x-forwarded-for']).toBe(CLIENT);
    expect(out['x-forwarded-proto']).toBe('http');
    expect(out['x-forwarded-host']).toBe(incoming.host);
    expect(out).not.toHaveProperty('x-forwarded-port');
    expect(out).not.toHaveProperty('x-real-ip');
    expect(out).not.toHaveProperty('forwarded');
  });

  it('leaves out x-forwarded-host when there is no Host', () => {
    expect(forwardedHeaders({}, untrusted)).toEqual({ 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http' });
  });

  it('uses an IPv6 peer address as is', () => {
    expect(forwardedHeaders({}, { address: '2001:db8::7', trusted: false })['x-forwarded-for']).toBe('2001:db8::7');
  });
});

describe('forwardedHeaders: a trusted proxy', () => {
  it('keeps its chain and appends its own address; takes its proto and host', () => {
    const out = forwardedHeaders({ host: 'internal:8080', ...FORGED, 'x-forwarded-for': `${CLIENT}, 198.51.100.2` }, trustedProxy);
    expect(out).toEqual({
      host: 'internal:8080',
      'x-forwarded-for': `${CLIENT}, 198.51.100.2, ${PROXY}`,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
  });

  it.each<[string, IncomingHttpHeaders, Record<string, string>]>([
    ['no chain: the proxy itself is the client', { host: 'h' }, { 'x-forwarded-for': PROXY, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'h' }],
    ['a blank chain counts as none', { host: 'h', 'x-forwarded-for': '  ' }, { 'x-forwarded-for': PROXY, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'h' }],
    ['chain trimmed', { 'x-forwarded-for': ` ${CLIENT} ` }, { 'x-forwarded-for': `${CLIENT}, ${PROXY}`, 'x-forwarded-proto': 'http' }],
    ['Host when it sends no x-forwarded-host', { host: 'h', 'x-forwarded-for': CLIENT }, { 'x-forwarded-for': `${CLIENT}, ${PROXY}`, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'h' }],
  ])('%s', (_name, incoming, attribution) => {
    expect(attributionOf(forwardedHeaders(incoming, trustedProxy))).toEqual(attribution);
  });

  it('still drops X-Real-IP, Forwarded and X-Forwarded-Port', () => {
    const out = forwardedHeaders(FORGED, trustedProxy);
    expect(Object.keys(out).sort()).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  it('trusted via an IPv4-mapped socket address, end to end', () => {
    const trust = createTrustCheck(['10.0.0.0/8']);
    const address = normalizeAddress('::ffff:10.0.0.5');
    expect(forwardedHeaders({ 'x-forwarded-for': CLIENT }, { address, trusted: trust('::ffff:10.0.0.5') })['x-forwarded-for']).toBe(`${CLIENT}, 10.0.0.5`);
  });
});

describe('forwardedHeaders: a local client', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1'])('%s without a trusted chain gets no attribution headers at all', (address) => {
    expect(forwardedHeaders({ host: 'localhost:8080', ...FORGED }, { address, trusted: false })).toEqual({ host: 'localhost:8080' });
  });

  it('a trusted loopback proxy with a chain is attributed like any proxy', () => {
    expect(forwardedHeaders({ 'x-forwarded-for': CLIENT }, { address: '127.0.0.1', trusted: true })['x-forwarded-for']).toBe(`${CLIENT}, 127.0.0.1`);
  });

  it('a trusted loopback peer without a chain gets no attribution headers', () => {
    expect(forwardedHeaders({ host: 'h' }, { address: '::1', trusted: true })).toEqual({ host: 'h' });
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
    const out = forwardedHeaders({ host: 'h', authorization: 'Bearer t', cookie: 'a=b', ...HOP_BY_HOP }, untrusted);
    expect(Object.keys(out).sort()).toEqual(['authorization', 'cookie', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  it('matches Connection tokens case-insensitively and with spaces', () => {
    const out = forwardedHeaders({ connection: ' X-Drop-Me ,Keep-Alive', 'x-drop-me': '1', 'x-keep-me': '2' }, untrusted);
    expect(out).not.toHaveProperty('x-drop-me');
    expect(out['x-keep-me']).toBe('2');
  });

  it('never lets Connection remove Host', () => {
    const out = forwardedHeaders({ connection: 'close, host', host: 'app.example' }, untrusted);
    expect(out['host']).toBe('app.example');
    expect(out['x-forwarded-host']).toBe('app.example');
  });

  it('keeps multi-valued headers as arrays', () => {
    expect(forwardedHeaders({ 'set-cookie': ['a=1', 'b=2'] }, untrusted)['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('does not modify the incoming headers', () => {
    const incoming: IncomingHttpHeaders = { host: 'h', ...FORGED, ...HOP_BY_HOP };
    const copy = structuredClone(incoming);
    forwardedHeaders(incoming, untrusted);
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

  it('keeps the WebSocket handshake headers and drops Connection and Upgrade (the engine sends its own)', () => {
    expect(forwardedHeaders(UPGRADE, untrusted)).toEqual({
      host: 'app.example',
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
    const out = forwardedHeaders({ ...UPGRADE, ...FORGED }, untrusted);
    expect(out['x-forwarded-for']).toBe(CLIENT);
    expect(out).not.toHaveProperty('x-real-ip');
    expect(out).not.toHaveProperty('forwarded');
  });
});
