import { describe, expect, it } from 'vitest';
import { endToEndRawResponseHeaders, endToEndResponseHeaders, hasHost, type BodyFraming, type RequestHead } from '../../../src/front-door/headers.js';
import { upstreamRequest } from '../../../src/front-door/upstream-request.js';

/** The one builder (upstream-request.ts) for a local client's HTTP request: no attribution is added. */
const built = (head: RequestHead) => upstreamRequest({ method: 'POST', url: '/', ...head }, { kind: 'local' }, 'http');
const bodyFraming = (head: RequestHead): BodyFraming => built(head).framing;
/** The end-to-end part of the built head: without the length this hop adds back at its end. */
function endToEndRequestHeaders(head: RequestHead): string[] {
  const { headers, framing } = built(head);
  return framing.kind === 'length' ? headers.slice(0, -2) : headers;
}

/**
 * The header rules the HTTP and WebSocket paths share (src/front-door/headers.ts and the one
 * upstream-request builder), one row per input: which headers belong to a hop (RFC 9110 §7.6.1), how a body is framed upstream, whether a
 * Host was sent. Kept apart from admission-rules.test.ts: these helpers may move to other files.
 */

describe('bodyFraming: how a body that passed framingProblem is framed upstream', () => {
  it.each<{ name: string; rawHeaders: string[]; framing: BodyFraming }>([
    { name: 'no framing header: no body', rawHeaders: ['Host', 'x'], framing: { kind: 'none' } },
    { name: 'no header at all: no body', rawHeaders: [], framing: { kind: 'none' } },
    { name: 'Content-Length: 0 is no body', rawHeaders: ['Host', 'x', 'Content-Length', '0'], framing: { kind: 'none' } },
    { name: 'Content-Length: 00 is no body', rawHeaders: ['Content-Length', '00'], framing: { kind: 'none' } },
    { name: 'Content-Length: 5 is a length', rawHeaders: ['Host', 'x', 'Content-Length', '5'], framing: { kind: 'length', length: '5' } },
    { name: 'the length is passed on trimmed', rawHeaders: ['Content-Length', ' 12 '], framing: { kind: 'length', length: '12' } },
    { name: 'the length is passed on as written', rawHeaders: ['Content-Length', '007'], framing: { kind: 'length', length: '007' } },
    { name: 'header names are case-insensitive: CONTENT-LENGTH', rawHeaders: ['CONTENT-LENGTH', '3'], framing: { kind: 'length', length: '3' } },
    { name: 'Transfer-Encoding: chunked is chunked', rawHeaders: ['Host', 'x', 'Transfer-Encoding', 'chunked'], framing: { kind: 'chunked' } },
    { name: 'header names are case-insensitive: transfer-ENCODING', rawHeaders: ['transfer-ENCODING', 'chunked'], framing: { kind: 'chunked' } },
    { name: 'a value "content-length" under another name frames nothing', rawHeaders: ['X-Note', 'content-length', 'Content-Length', '4'], framing: { kind: 'length', length: '4' } },
    { name: 'a value "transfer-encoding" under another name frames nothing', rawHeaders: ['X-Note', 'transfer-encoding'], framing: { kind: 'none' } },
  ])('$name', ({ rawHeaders, framing }) => {
    expect(bodyFraming({ httpVersion: '1.1', rawHeaders })).toEqual(framing);
  });
});

describe('hasHost', () => {
  it.each<{ name: string; rawHeaders: string[]; host: boolean }>([
    { name: 'Host', rawHeaders: ['Host', 'example.com'], host: true },
    { name: 'host in lower case', rawHeaders: ['host', 'example.com'], host: true },
    { name: 'HOST in upper case', rawHeaders: ['HOST', 'example.com'], host: true },
    { name: 'Host after other headers', rawHeaders: ['Accept', '*/*', 'User-Agent', 'x', 'Host', 'example.com'], host: true },
    { name: 'an empty Host is a Host (RFC 9112 §3.2 allows it)', rawHeaders: ['Host', ''], host: true },
    { name: 'no header at all', rawHeaders: [], host: false },
    { name: 'X-Forwarded-Host is not Host', rawHeaders: ['X-Forwarded-Host', 'example.com'], host: false },
    { name: 'a value "host" is not a Host header', rawHeaders: ['X-Original', 'host'], host: false },
    { name: 'a value "Host" before a Host line does not shift the pairs', rawHeaders: ['X-A', 'Host', 'X-B', 'host'], host: false },
  ])('$name: $host', ({ rawHeaders, host }) => {
    expect(hasHost({ httpVersion: '1.1', rawHeaders })).toBe(host);
  });
});

/** RFC 9110 §7.6.1 hop-by-hop fields and those meaningful to one hop only (headers.ts, HOP_BY_HOP). */
const HOP_BY_HOP = ['Connection', 'Keep-Alive', 'Proxy-Connection', 'Proxy-Authenticate', 'Proxy-Authorization', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'HTTP2-Settings', 'Expect'];
const FRAMING = ['Content-Length', 'Transfer-Encoding'];
const ATTRIBUTION = ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Forwarded-Port', 'X-Real-IP', 'Forwarded'];
const SAMPLE: Record<string, string> = {
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'proxy-connection': 'keep-alive',
  'proxy-authenticate': 'Basic realm="x"',
  'proxy-authorization': 'Basic dTpw',
  te: 'trailers',
  trailer: 'Expires',
  'transfer-encoding': 'chunked',
  upgrade: 'websocket',
  'http2-settings': 'AAMAAABkAAQAAP__',
  expect: '100-continue',
  'content-length': '5',
  'x-forwarded-for': '203.0.113.9',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-port': '443',
  'x-real-ip': '203.0.113.9',
  forwarded: 'for=203.0.113.9',
};
const sample = (name: string): string => SAMPLE[name.toLowerCase()]!;

describe('endToEndRequestHeaders: what of a request goes upstream', () => {
  const base = ['Host', 'example.com', 'User-Agent', 'ua'];
  const request = (extra: string[]) => endToEndRequestHeaders({ httpVersion: '1.1', rawHeaders: [...base, ...extra] });

  it.each(HOP_BY_HOP)('hop-by-hop %s is dropped', (name) => {
    expect(request([name, sample(name)])).toEqual(base);
  });

  it.each(HOP_BY_HOP.map((name) => name.toUpperCase()))('hop-by-hop %s in upper case is dropped', (name) => {
    expect(request([name, sample(name)])).toEqual(base);
  });

  it.each(FRAMING)('framing %s is dropped (the caller frames the body again)', (name) => {
    expect(request([name, sample(name)])).toEqual(base);
  });

  it.each(ATTRIBUTION)('attribution %s is dropped (the front door derives its own)', (name) => {
    expect(request([name, sample(name)])).toEqual(base);
  });

  it.each(ATTRIBUTION.map((name) => name.toLowerCase()))('attribution %s in lower case is dropped', (name) => {
    expect(request([name, sample(name)])).toEqual(base);
  });

  it.each<{ name: string; extra: string[]; out: string[] }>([
    { name: 'a header the Connection names is dropped', extra: ['Connection', 'x-hop', 'X-Hop', '1', 'X-Keep', '2'], out: [...base, 'X-Keep', '2'] },
    { name: 'Connection tokens match names case-insensitively', extra: ['Connection', 'X-HOP', 'x-hop', '1'], out: base },
    { name: 'Connection tokens are trimmed and comma-separated', extra: ['Connection', ' keep-alive ,x-a,  X-B  ', 'X-A', '1', 'X-B', '2', 'X-C', '3'], out: [...base, 'X-C', '3'] },
    { name: 'each Connection line names headers', extra: ['Connection', 'x-a', 'X-A', '1', 'connection', 'x-b', 'X-B', '2'], out: base },
    { name: 'a header named before the Connection line is dropped too', extra: ['X-A', '1', 'Connection', 'x-a'], out: base },
    { name: 'empty Connection tokens drop nothing', extra: ['Connection', ', ,', 'X-A', '1'], out: [...base, 'X-A', '1'] },
    { name: 'Connection naming Host never drops the Host', extra: ['Connection', 'host'], out: base },
    { name: 'Connection naming HOST in upper case never drops the Host', extra: ['Connection', 'HOST, x-a', 'X-A', '1'], out: base },
    { name: 'without a Connection header, an unknown header passes', extra: ['X-Custom', 'v'], out: [...base, 'X-Custom', 'v'] },
    { name: 'end-to-end headers keep their case, order and repeats', extra: ['cookie', 'a=1', 'Accept', '*/*', 'cookie', 'b=2'], out: [...base, 'cookie', 'a=1', 'Accept', '*/*', 'cookie', 'b=2'] },
    { name: 'the WebSocket handshake headers pass (the engine adds its own Connection and Upgrade)', extra: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13', 'Origin', 'https://example.com'], out: [...base, 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13', 'Origin', 'https://example.com'] },
    { name: 'Authorization is end to end (only Proxy-Authorization is hop-by-hop)', extra: ['Authorization', 'Bearer t', 'Proxy-Authorization', 'Basic x'], out: [...base, 'Authorization', 'Bearer t'] },
    { name: 'a value naming a hop-by-hop header is kept under an end-to-end name', extra: ['X-Note', 'connection'], out: [...base, 'X-Note', 'connection'] },
    { name: 'only Connection names headers: another header whose value is a header name drops nothing', extra: ['X-Note', 'user-agent, accept', 'Accept', '*/*'], out: [...base, 'X-Note', 'user-agent, accept', 'Accept', '*/*'] },
  ])('$name', ({ extra, out }) => {
    expect(request(extra)).toEqual(out);
  });

  it('does not modify the incoming list', () => {
    const rawHeaders = ['Host', 'x', 'Connection', 'x-a', 'X-A', '1'];
    endToEndRequestHeaders({ httpVersion: '1.1', rawHeaders });
    expect(rawHeaders).toEqual(['Host', 'x', 'Connection', 'x-a', 'X-A', '1']);
  });
});

describe("endToEndResponseHeaders: what of the gateway's response goes to the client", () => {
  // Node gives response headers with lower-case names.
  const base = { 'content-type': 'text/plain', 'cache-control': 'no-store' };

  it.each(HOP_BY_HOP.map((name) => name.toLowerCase()))('hop-by-hop %s is dropped', (name) => {
    expect(endToEndResponseHeaders({ ...base, [name]: sample(name) })).toEqual(base);
  });

  it.each(HOP_BY_HOP)("hop-by-hop %s is dropped from undici's raw head too (the HTTP path)", (name) => {
    const raw = [name, sample(name), 'Content-Type', 'text/plain'].map((text) => Buffer.from(text, 'latin1'));
    expect(endToEndRawResponseHeaders(raw)).toEqual(['content-type', 'text/plain']);
  });

  it.each<{ name: string; headers: Record<string, string | string[] | undefined>; out: Record<string, string | string[]> }>([
    { name: 'Content-Length is kept (Node frames the response with it)', headers: { ...base, 'content-length': '5' }, out: { ...base, 'content-length': '5' } },
    { name: 'attribution headers in a response are not ours to drop', headers: { ...base, 'x-forwarded-for': '10.0.0.1' }, out: { ...base, 'x-forwarded-for': '10.0.0.1' } },
    { name: 'a header the Connection names is dropped', headers: { ...base, connection: 'x-hop', 'x-hop': '1', 'x-keep': '2' }, out: { ...base, 'x-keep': '2' } },
    { name: 'Connection tokens match case-insensitively and are trimmed', headers: { ...base, connection: ' Keep-Alive , X-Hop ', 'x-hop': '1' }, out: base },
    { name: 'several Connection values (an array) each name headers', headers: { ...base, connection: ['x-a', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }, out: { ...base, 'x-c': '3' } },
    { name: 'a response Connection may name Content-Length (dropped: Node frames it by chunks)', headers: { ...base, connection: 'content-length', 'content-length': '5' }, out: base },
    { name: 'an undefined value is left out', headers: { ...base, 'x-none': undefined }, out: base },
    { name: 'Set-Cookie stays an array', headers: { ...base, 'set-cookie': ['a=1', 'b=2'] }, out: { ...base, 'set-cookie': ['a=1', 'b=2'] } },
    { name: 'without a Connection header, everything end to end passes', headers: { ...base, 'x-custom': 'v', etag: '"1"' }, out: { ...base, 'x-custom': 'v', etag: '"1"' } },
    { name: 'no header at all', headers: {}, out: {} },
  ])('$name', ({ headers, out }) => {
    // Strict: a name left with an undefined value would still be sent.
    expect(endToEndResponseHeaders(headers)).toStrictEqual(out);
    // The HTTP path reads undici's raw head (names in any case, one entry per line): the same fields pass.
    const raw: Buffer[] = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      const sent = name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
      for (const line of Array.isArray(value) ? value : [value]) raw.push(Buffer.from(sent, 'latin1'), Buffer.from(line, 'latin1'));
    }
    const flat = endToEndRawResponseHeaders(raw);
    const grouped: Record<string, string | string[]> = {};
    for (let i = 0; i < flat.length; i += 2) {
      const had = grouped[flat[i]!];
      grouped[flat[i]!] = had === undefined ? flat[i + 1]! : [...(Array.isArray(had) ? had : [had]), flat[i + 1]!];
    }
    expect(grouped).toStrictEqual(out);
  });
});
