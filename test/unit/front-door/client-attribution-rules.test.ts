import { describe, expect, it } from 'vitest';
import {
  RELAYED_LOOPBACK_CLIENT,
  attributeClient,
  canonicalAddress,
  createTrustCheck,
  normalizeAddress,
  type Attribution,
  type AttributionPolicy,
  type ForwardableAttribution,
} from '../../../src/front-door/client-attribution.js';
import { isLoopback } from '../../../src/host/loopback.js';
import { upstreamRequest } from '../../../src/front-door/upstream-request.js';

/**
 * src/front-door/client-attribution.ts, one row per input with the exact answer: the edges
 * client-attribution.test.ts leaves open (address spellings, proxy lists of single addresses and
 * subnets, X-Forwarded-For items with ports, the refusal messages, the exact upstream list).
 */

describe('normalizeAddress: only ::ffff: + IPv4 is unwrapped', () => {
  it.each<[string, string]>([
    ['1:2:3::4.5.6.7', '1:2:3::4.5.6.7'],
    ['::ffff:1.2.3', '::ffff:1.2.3'],
  ])('%s → %s', (input, output) => {
    expect(normalizeAddress(input)).toBe(output);
  });
});

describe('createTrustCheck: single addresses and subnets, IPv4 and IPv6', () => {
  // Built in each test, not while collecting: a broken list must fail a test, not the file's load.
  const check = (address: string): boolean => createTrustCheck(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '2001:db9::5'])(address);
  it.each<[string, boolean]>([
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['2001:db8:1::1', true],
    ['2001:db7::1', false],
    ['2001:db9::5', true],
    ['2001:db9::6', false],
    ['not-an-address', false],
    ['', false],
  ])('%s: %s', (address, trusted) => {
    expect(check(address)).toBe(trusted);
  });

  it('an empty list trusts no one', () => {
    expect(createTrustCheck([])('10.0.0.1')).toBe(false);
  });
});

describe('isLoopback: 127.0.0.0/8 and ::1', () => {
  it.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['126.255.255.255', false],
    ['128.0.0.1', false],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::2', false],
    ['localhost', false],
  ])('%s: %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});

describe('canonicalAddress: only a whole ::ffff:a:b is IPv4-mapped', () => {
  it.each<[string, string | null]>([
    ['::ffff:102:304', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['1::ffff:102:304', '1::ffff:102:304'],
    ['::ffff:102:304:5', '::ffff:102:304:5'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', null],
    ['x', null],
  ])('%s → %s', (address, canonical) => {
    expect(canonicalAddress(address)).toBe(canonical);
  });
});

const PROXY = '10.0.0.5';
const policy: AttributionPolicy = { trustedProxies: (address) => createTrustCheck([`${PROXY}/32`])(address), loopbackClients: 'local' };
const attribute = (peer: string, rawHeaders: string[]): Attribution => attributeClient({ httpVersion: '1.1', rawHeaders }, peer, policy);
const remote = (client: string, source: 'peer' | 'forwarded' | 'relay', extra: { proto?: string; host?: string | undefined; replaced?: boolean } = {}): Attribution => ({
  kind: 'remote',
  client,
  source,
  proto: extra.proto ?? 'http',
  host: 'host' in extra ? extra.host : 'app.example',
  replaced: extra.replaced ?? false,
});
const H = ['Host', 'app.example'];

describe('attributeClient: exact answers', () => {
  it.each<{ name: string; peer: string; loopbackClients?: 'local' | 'remote'; rawHeaders: string[]; attribution: Attribution }>([
    { name: 'an untrusted IPv6 peer in upper case is named canonically', peer: '2001:DB8::1', rawHeaders: H, attribution: remote('2001:db8::1', 'peer') },
    { name: 'an untrusted peer with a zone id is named as it is', peer: 'fe80::1%eth0', rawHeaders: H, attribution: remote('fe80::1%eth0', 'peer') },
    { name: 'an item with a port: 203.0.113.9:5678', peer: PROXY, rawHeaders: [...H, 'X-Forwarded-For', '203.0.113.9:5678'], attribution: remote('203.0.113.9', 'forwarded') },
    { name: 'a bracketed IPv6 item with a port', peer: PROXY, rawHeaders: [...H, 'X-Forwarded-For', '[2001:db8::9]:443'], attribution: remote('2001:db8::9', 'forwarded') },
    { name: 'a bracketed IPv6 item without a port', peer: PROXY, rawHeaders: [...H, 'X-Forwarded-For', '[2001:DB8::9]'], attribution: remote('2001:db8::9', 'forwarded') },
    {
      name: 'an item with text before the brackets is no address',
      peer: PROXY,
      rawHeaders: [...H, 'X-Forwarded-For', 'x[2001:db8::9]'],
      attribution: { kind: 'refused', code: 'not_an_address', message: 'X-Forwarded-For item "x[2001:db8::9]" is not an IP address' },
    },
    {
      name: 'an item with text after the port is no address',
      peer: PROXY,
      rawHeaders: [...H, 'X-Forwarded-For', '[2001:db8::9]:443x'],
      attribution: { kind: 'refused', code: 'not_an_address', message: 'X-Forwarded-For item "[2001:db8::9]:443x" is not an IP address' },
    },
    {
      name: 'an IPv4 item with text before it is no address',
      peer: PROXY,
      rawHeaders: [...H, 'X-Forwarded-For', 'x1.2.3.4:5'],
      attribution: { kind: 'refused', code: 'not_an_address', message: 'X-Forwarded-For item "x1.2.3.4:5" is not an IP address' },
    },
    {
      name: 'an IPv4 item with text after its port is no address',
      peer: PROXY,
      rawHeaders: [...H, 'X-Forwarded-For', '1.2.3.4:5x'],
      attribution: { kind: 'refused', code: 'not_an_address', message: 'X-Forwarded-For item "1.2.3.4:5x" is not an IP address' },
    },
    {
      name: 'a long item is named by its first 64 characters',
      peer: PROXY,
      rawHeaders: [...H, 'X-Forwarded-For', 'a'.repeat(100)],
      attribution: { kind: 'refused', code: 'not_an_address', message: `X-Forwarded-For item "${'a'.repeat(64)}" is not an IP address` },
    },
    {
      name: 'a chain of loopback hops only',
      peer: '127.0.0.1',
      rawHeaders: [...H, 'X-Forwarded-For', '127.0.0.1'],
      attribution: { kind: 'refused', code: 'loopback_chain', message: 'X-Forwarded-For names only loopback addresses: a proxy on this host must name the client it forwards, never 127.0.0.1' },
    },
    { name: 'list headers over several lines are joined with ", "', peer: PROXY, rawHeaders: [...H, 'X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Proto', 'http'], attribution: remote('203.0.113.9', 'forwarded', { proto: 'https, http' }) },
    { name: 'a loopback peer under remote is a relay: the placeholder', peer: '127.0.0.1', loopbackClients: 'remote', rawHeaders: H, attribution: remote(RELAYED_LOOPBACK_CLIENT, 'relay') },
  ])('$name', ({ peer, loopbackClients, rawHeaders, attribution }) => {
    expect(attributeClient({ httpVersion: '1.1', rawHeaders }, peer, { ...policy, loopbackClients: loopbackClients ?? 'local' })).toEqual(attribution);
  });

  const NO_XFF = { kind: 'refused', code: 'no_x_forwarded_for', message: 'forwarding headers without X-Forwarded-For: the proxy must name the client in X-Forwarded-For' };
  it.each<[string, string]>([
    ['X-Forwarded-For', ''],
    ['X-Forwarded-Proto', 'https'],
    ['X-Forwarded-Host', 'app.example'],
    ['X-Forwarded-Port', '443'],
    ['X-Real-IP', '203.0.113.9'],
    ['Forwarded', 'for=203.0.113.9'],
  ])('a trusted proxy sending %s without a client in X-Forwarded-For is refused', (name, value) => {
    expect(attribute(PROXY, [...H, name, value])).toEqual(NO_XFF);
  });
});

describe('the attribution in the upstream request: the exact list', () => {
  const head = { method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'app.example', 'X-Forwarded-For', '6.6.6.6', 'Accept', '*/*'] };
  it.each<{ name: string; attribution: ForwardableAttribution; list: string[] }>([
    { name: 'a local client: the end-to-end headers and nothing else', attribution: { kind: 'local' }, list: ['Host', 'app.example', 'Accept', '*/*'] },
    {
      name: 'a remote client with a host: for, proto, host',
      attribution: { kind: 'remote', client: '203.0.113.9', source: 'peer', proto: 'http', host: 'app.example', replaced: true },
      list: ['Host', 'app.example', 'Accept', '*/*', 'x-forwarded-for', '203.0.113.9', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'app.example'],
    },
    {
      name: 'a remote client without a host: no x-forwarded-host',
      attribution: { kind: 'remote', client: '203.0.113.9', source: 'forwarded', proto: 'https', host: undefined, replaced: false },
      list: ['Host', 'app.example', 'Accept', '*/*', 'x-forwarded-for', '203.0.113.9', 'x-forwarded-proto', 'https'],
    },
  ])('$name', ({ attribution, list }) => {
    expect(upstreamRequest(head, attribution, 'http').headers).toEqual(list);
  });
});
