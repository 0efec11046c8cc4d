import { describe, expect, it } from 'vitest';
import { admit, MAX_REQUEST_HEADERS, type Admission, type Arrival } from '../../../src/front-door/admission.js';
import { framingProblem, type RequestHead } from '../../../src/front-door/headers.js';
import type { HealthView } from '../../../src/front-door/health.js';
import type { GatewayState } from '../../../src/gateway/lifecycle.js';

/**
 * The front door's own refusal rules (docs/front-door.md, "The front door's rules"; RFC 9112 §6),
 * one row per input, calling `framingProblem` and `admit` directly: Node's parser refuses several
 * of these inputs before the front door sees them, so only here is the front door's own check the
 * one that answers. The expected answers are written out in full (status, body, headers, close,
 * drainRejected), not recomputed from the code's constants.
 */

// ---------------------------------------------------------------------------------------------
// framingProblem(head, upgrade): why a request's framing is ambiguous, or null.
// ---------------------------------------------------------------------------------------------

interface FramingRow {
  readonly name: string;
  readonly rawHeaders: readonly string[];
  readonly httpVersion?: string;
  readonly upgrade?: boolean;
  readonly problem: string | null;
}

const H = ['Host', 'example.com'];

const FRAMING_ROWS: readonly FramingRow[] = [
  // Certain framing passes.
  { name: 'no framing header: no body (§6.3 rule 7)', rawHeaders: H, problem: null },
  { name: 'no header at all', rawHeaders: [], problem: null },
  { name: 'one Content-Length: 0', rawHeaders: [...H, 'Content-Length', '0'], problem: null },
  { name: 'one Content-Length: 5', rawHeaders: [...H, 'Content-Length', '5'], problem: null },
  { name: 'one Content-Length with whitespace around the value (OWS is not part of the field value)', rawHeaders: [...H, 'Content-Length', ' 5 '], problem: null },
  { name: 'Content-Length of 15 digits, the most accepted', rawHeaders: [...H, 'Content-Length', '999999999999999'], problem: null },
  { name: 'Content-Length with leading zeros is still 1*DIGIT (§6.2)', rawHeaders: [...H, 'Content-Length', '007'], problem: null },
  { name: 'Transfer-Encoding: chunked alone on HTTP/1.1 (§6.1)', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], problem: null },
  { name: 'Transfer-Encoding: Chunked: coding names are case-insensitive (§7)', rawHeaders: [...H, 'Transfer-Encoding', 'Chunked'], problem: null },
  { name: 'Transfer-Encoding: " chunked " with whitespace around it', rawHeaders: [...H, 'Transfer-Encoding', ' chunked '], problem: null },
  { name: 'header names are case-insensitive: TRANSFER-ENCODING: chunked', rawHeaders: [...H, 'TRANSFER-ENCODING', 'chunked'], problem: null },
  { name: 'one Host on HTTP/1.0 with a body length', rawHeaders: [...H, 'Content-Length', '3'], httpVersion: '1.0', problem: null },
  { name: 'Connection: keep-alive is allowed', rawHeaders: [...H, 'Connection', 'keep-alive'], problem: null },
  { name: 'Connection: close is allowed', rawHeaders: [...H, 'Connection', 'close'], problem: null },
  { name: 'Connection naming a custom header is allowed (it is dropped as hop-by-hop)', rawHeaders: [...H, 'Connection', 'x-trace-hop'], problem: null },
  { name: 'Connection: keep-alive, Upgrade is allowed', rawHeaders: [...H, 'Connection', 'keep-alive, Upgrade'], problem: null },
  { name: 'Connection naming a header whose name only contains host is allowed', rawHeaders: [...H, 'Connection', 'x-host, hostname'], problem: null },
  { name: 'a value "host" under another name is not a Host line', rawHeaders: [...H, 'X-Original', 'host'], problem: null },
  { name: 'a value "content-length" under another name is not a Content-Length line', rawHeaders: [...H, 'X-Note', 'content-length', 'Content-Length', '2'], problem: null },
  { name: 'an upgrade without a body', rawHeaders: [...H, 'Upgrade', 'websocket'], upgrade: true, problem: null },
  { name: 'an upgrade with Content-Length: 0 has no body', rawHeaders: [...H, 'Content-Length', '0'], upgrade: true, problem: null },
  { name: 'a body is fine on a request that is not an upgrade', rawHeaders: [...H, 'Content-Length', '5'], upgrade: false, problem: null },

  // Several Host (RFC 9112 §3.2: 400 for more than one Host).
  { name: 'two Host lines with different values', rawHeaders: ['Host', 'a.example', 'Host', 'b.example'], problem: 'several Host headers' },
  { name: 'two Host lines with the same value', rawHeaders: ['Host', 'a.example', 'host', 'a.example'], problem: 'several Host headers' },

  // Several Content-Length (§6.3 rule 5: a proxy must not forward a list; we refuse even equal ones).
  { name: 'two Content-Length lines with the same value', rawHeaders: [...H, 'Content-Length', '5', 'Content-Length', '5'], problem: 'several Content-Length headers' },
  { name: 'two Content-Length lines with different values', rawHeaders: [...H, 'Content-Length', '5', 'content-length', '6'], problem: 'several Content-Length headers' },
  { name: 'two Content-Length lines, the second one invalid', rawHeaders: [...H, 'Content-Length', '5', 'CONTENT-LENGTH', 'x'], problem: 'several Content-Length headers' },

  // Content-Length = 1*DIGIT (§6.2), 1 to 15 digits here.
  { name: 'Content-Length with a plus sign', rawHeaders: [...H, 'Content-Length', '+5'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length with a minus sign', rawHeaders: [...H, 'Content-Length', '-1'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length with a space inside', rawHeaders: [...H, 'Content-Length', '1 2'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length in hex', rawHeaders: [...H, 'Content-Length', '0x10'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length ending in a letter', rawHeaders: [...H, 'Content-Length', '5a'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length as a list of equal values (§6.3 rule 5 lets a recipient accept it; a proxy must not pass it on)', rawHeaders: [...H, 'Content-Length', '5, 5'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length of 16 digits', rawHeaders: [...H, 'Content-Length', '1234567890123456'], problem: 'an invalid Content-Length' },
  { name: 'Content-Length empty', rawHeaders: [...H, 'Content-Length', ''], problem: 'an invalid Content-Length' },
  { name: 'Content-Length as a decimal', rawHeaders: [...H, 'Content-Length', '5.0'], problem: 'an invalid Content-Length' },

  // Transfer-Encoding and Content-Length together (§6.1: "ought to be handled as an error").
  { name: 'Transfer-Encoding then Content-Length', rawHeaders: [...H, 'Transfer-Encoding', 'chunked', 'Content-Length', '5'], problem: 'both Transfer-Encoding and Content-Length' },
  { name: 'Content-Length then Transfer-Encoding', rawHeaders: [...H, 'Content-Length', '0', 'Transfer-Encoding', 'chunked'], problem: 'both Transfer-Encoding and Content-Length' },
  { name: 'Transfer-Encoding other than chunked and Content-Length', rawHeaders: [...H, 'Transfer-Encoding', 'gzip', 'Content-Length', '5'], problem: 'both Transfer-Encoding and Content-Length' },

  // Transfer-Encoding other than exactly one `chunked` (§6.3 rule 4: the final coding must be chunked; we accept only chunked alone).
  { name: 'Transfer-Encoding: gzip, chunked', rawHeaders: [...H, 'Transfer-Encoding', 'gzip, chunked'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding: chunked, chunked', rawHeaders: [...H, 'Transfer-Encoding', 'chunked, chunked'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'two Transfer-Encoding: chunked lines', rawHeaders: [...H, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'two Transfer-Encoding lines, gzip then chunked', rawHeaders: [...H, 'Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding: gzip alone', rawHeaders: [...H, 'Transfer-Encoding', 'gzip'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding: identity (gone since RFC 7230)', rawHeaders: [...H, 'Transfer-Encoding', 'identity'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding: chunked; with a parameter', rawHeaders: [...H, 'Transfer-Encoding', 'chunked;x=1'], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding empty', rawHeaders: [...H, 'Transfer-Encoding', ''], problem: 'a Transfer-Encoding other than exactly chunked' },
  { name: 'Transfer-Encoding: gzip on HTTP/1.0 names the coding first', rawHeaders: [...H, 'Transfer-Encoding', 'gzip'], httpVersion: '1.0', problem: 'a Transfer-Encoding other than exactly chunked' },

  // Transfer-Encoding in HTTP/1.0 (§6.1: a 1.0 message with Transfer-Encoding is faulty framing).
  { name: 'Transfer-Encoding: chunked on HTTP/1.0', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], httpVersion: '1.0', problem: 'Transfer-Encoding in an HTTP/1.0 request' },
  { name: 'Transfer-Encoding: chunked on any version but 1.1', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], httpVersion: '0.9', problem: 'Transfer-Encoding in an HTTP/1.0 request' },

  // Connection naming framing, routing or attribution (RFC 9110 §7.6.1 would drop them upstream).
  { name: 'Connection: host', rawHeaders: [...H, 'Connection', 'host'], problem: 'Connection names host' },
  { name: 'Connection: content-length', rawHeaders: [...H, 'Connection', 'content-length'], problem: 'Connection names content-length' },
  { name: 'Connection: transfer-encoding', rawHeaders: [...H, 'Connection', 'transfer-encoding'], problem: 'Connection names transfer-encoding' },
  { name: 'Connection: x-forwarded-for', rawHeaders: [...H, 'Connection', 'x-forwarded-for'], problem: 'Connection names x-forwarded-for' },
  { name: 'Connection: x-forwarded-proto', rawHeaders: [...H, 'Connection', 'x-forwarded-proto'], problem: 'Connection names x-forwarded-proto' },
  { name: 'Connection: x-forwarded-host', rawHeaders: [...H, 'Connection', 'x-forwarded-host'], problem: 'Connection names x-forwarded-host' },
  { name: 'Connection: x-forwarded-port', rawHeaders: [...H, 'Connection', 'x-forwarded-port'], problem: 'Connection names x-forwarded-port' },
  { name: 'Connection: x-real-ip', rawHeaders: [...H, 'Connection', 'x-real-ip'], problem: 'Connection names x-real-ip' },
  { name: 'Connection: forwarded', rawHeaders: [...H, 'Connection', 'forwarded'], problem: 'Connection names forwarded' },
  { name: 'Connection: Content-Length in another case', rawHeaders: [...H, 'Connection', 'Content-Length'], problem: 'Connection names content-length' },
  { name: 'Connection naming Host after keep-alive, with spaces', rawHeaders: [...H, 'Connection', 'keep-alive ,  Host '], problem: 'Connection names host' },
  { name: 'CONNECTION in upper case naming host', rawHeaders: [...H, 'CONNECTION', 'host'], problem: 'Connection names host' },
  { name: 'the second Connection line naming host', rawHeaders: [...H, 'Connection', 'keep-alive', 'Connection', 'host'], problem: 'Connection names host' },
  { name: 'Connection naming host wins over several Host lines (found while reading the head)', rawHeaders: ['Host', 'a', 'Host', 'b', 'Connection', 'host'], problem: 'Connection names host' },

  // A WebSocket upgrade with a body (RFC 6455 §4.1 handshake has none; the bytes would go to the tunnel).
  { name: 'an upgrade with Content-Length: 5', rawHeaders: [...H, 'Content-Length', '5'], upgrade: true, problem: 'a WebSocket upgrade with a body' },
  { name: 'an upgrade with Transfer-Encoding: chunked', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], upgrade: true, problem: 'a WebSocket upgrade with a body' },

  // The order of the checks: the first that applies is named.
  { name: 'several Host before several Content-Length', rawHeaders: ['Host', 'a', 'Host', 'b', 'Content-Length', '1', 'Content-Length', '1'], problem: 'several Host headers' },
  { name: 'several Content-Length before Transfer-Encoding', rawHeaders: [...H, 'Content-Length', '1', 'Content-Length', '1', 'Transfer-Encoding', 'chunked'], problem: 'several Content-Length headers' },
  { name: 'an invalid Content-Length before Transfer-Encoding', rawHeaders: [...H, 'Content-Length', '-1', 'Transfer-Encoding', 'chunked'], problem: 'an invalid Content-Length' },
  { name: 'Transfer-Encoding with Content-Length before the upgrade rule', rawHeaders: [...H, 'Content-Length', '1', 'Transfer-Encoding', 'chunked'], upgrade: true, problem: 'both Transfer-Encoding and Content-Length' },
];

describe('framingProblem: RFC 9112 §6 and the front door rules', () => {
  it.each(FRAMING_ROWS)('$name', ({ rawHeaders, httpVersion, upgrade, problem }) => {
    const head: RequestHead = { httpVersion: httpVersion ?? '1.1', rawHeaders };
    expect(framingProblem(head, upgrade ?? false)).toBe(problem);
  });
});

// ---------------------------------------------------------------------------------------------
// admit(arrival, view): forward, or the answer the front door gives itself.
// ---------------------------------------------------------------------------------------------

const READY: HealthView = { gatewayState: 'ready', draining: false };
const DRAINING: HealthView = { gatewayState: 'ready', draining: true };
const FORWARD: Admission = { action: 'forward' };

function refused(status: number, body: object, close = true): Admission {
  return { action: 'reply', status, body, headers: {}, close, drainRejected: false };
}
const badTarget = refused(400, { error: 'bad_request', message: 'the request target must be a path without . or .. segments' });
const badVersion = (version: string) => refused(400, { error: 'bad_request', message: `HTTP/${version} is not spoken here: use HTTP/1.1` });
const ambiguous = (problem: string) =>
  refused(400, { error: 'ambiguous_framing', message: `refused: ${problem} (RFC 9112 §6); send one Content-Length or Transfer-Encoding: chunked` });
const notWebSocketEndpoint = refused(400, { error: 'bad_request', message: 'not a WebSocket endpoint' });
const unsupportedUpgrade = refused(400, { error: 'unsupported_upgrade', message: 'only WebSocket upgrades (GET, HTTP/1.1) are forwarded' });
const noHost = refused(400, { error: 'bad_request', message: 'a Host header is required' });
const tooManyHeaders = refused(431, { error: 'bad_request', message: 'request head too large: at most 999 header lines' });
const methodNotAllowed = (close: boolean): Admission => ({ action: 'reply', status: 405, body: { error: 'method_not_allowed' }, headers: { allow: 'GET, HEAD' }, close, drainRejected: false });
const health = (status: 200 | 503, state: string, view: HealthView): Admission => ({
  action: 'reply',
  status,
  body: { status: status === 200 ? 'ok' : 'unavailable', state, gateway: view.gatewayState, draining: view.draining },
  headers: {},
  close: view.draining,
  drainRejected: false,
});
const unavailable = (state: string, close: boolean, drainRejected: boolean): Admission => ({
  action: 'reply',
  status: 503,
  body: { error: 'unavailable', state, retryAfterSeconds: 5 },
  headers: { 'retry-after': '5' },
  close,
  drainRejected,
});

/** `lines` header lines: the Host and filler lines. */
function headerLines(lines: number): string[] {
  const raw = ['Host', 'example.com'];
  for (let i = 1; i < lines; i++) raw.push(`X-Pad-${i}`, 'v');
  return raw;
}

interface AdmitRow {
  readonly name: string;
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion?: string;
  readonly rawHeaders?: readonly string[];
  readonly upgrade?: string | null;
  readonly view?: HealthView;
  readonly expected: Admission;
}

const WS = ['Host', 'example.com', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Version', '13', 'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='];

const ADMIT_ROWS: readonly AdmitRow[] = [
  // Forwarded.
  { name: 'a GET with Host to a ready gateway is forwarded', expected: FORWARD },
  { name: 'a POST with one Content-Length is forwarded', method: 'POST', url: '/api', rawHeaders: [...H, 'Content-Length', '5'], expected: FORWARD },
  { name: 'a chunked POST is forwarded', method: 'POST', url: '/api', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], expected: FORWARD },
  { name: 'an HTTP/1.0 POST with Content-Length is forwarded', method: 'POST', httpVersion: '1.0', rawHeaders: [...H, 'Content-Length', '2'], expected: FORWARD },
  { name: 'a GET with a body is forwarded (a body, never a second request)', method: 'GET', rawHeaders: [...H, 'Content-Length', '4'], expected: FORWARD },
  { name: 'a method the front door does not know is forwarded', method: 'PROPFIND', url: '/dav', expected: FORWARD },
  { name: 'a WebSocket upgrade (GET, HTTP/1.1, Host) is forwarded', url: '/', rawHeaders: WS, upgrade: 'websocket', expected: FORWARD },
  { name: 'the Upgrade token is case-insensitive: WebSocket', url: '/ws', rawHeaders: WS, upgrade: 'WebSocket', expected: FORWARD },
  { name: 'host in upper case is a Host', rawHeaders: ['HOST', 'example.com'], expected: FORWARD },
  { name: 'announcing a stop: traffic that still arrives is served', view: { gatewayState: 'ready', draining: false, announcing: true }, expected: FORWARD },
  { name: 'a ready gateway failing its liveness probe is still forwarded to', view: { gatewayState: 'ready', draining: false, unresponsive: true }, expected: FORWARD },

  // Header count: rawHeaders at the cap may have been cut by Node 20.
  { name: `${MAX_REQUEST_HEADERS - 1} header lines (one under the cap) are forwarded`, rawHeaders: headerLines(MAX_REQUEST_HEADERS - 1), expected: FORWARD },
  { name: `${MAX_REQUEST_HEADERS} header lines (the cap) get 431`, rawHeaders: headerLines(MAX_REQUEST_HEADERS), expected: tooManyHeaders },
  { name: `${MAX_REQUEST_HEADERS + 1} header lines get 431`, rawHeaders: headerLines(MAX_REQUEST_HEADERS + 1), expected: tooManyHeaders },
  { name: 'the header cap comes first: before the target', url: '*', rawHeaders: headerLines(MAX_REQUEST_HEADERS), expected: tooManyHeaders },
  { name: 'the header cap applies to health endpoints too', url: '/healthz', rawHeaders: headerLines(MAX_REQUEST_HEADERS), expected: tooManyHeaders },

  // The request target: origin-form paths only (RFC 9112 §3.2), no dot segments (RFC 3986 §5.2.4).
  { name: 'absolute-form target (a proxy request)', url: 'http://example.com/', expected: badTarget },
  { name: 'absolute-form target for another host', url: 'http://internal.example:8080/admin', expected: badTarget },
  { name: 'authority-form target (CONNECT)', method: 'CONNECT', url: 'example.com:443', expected: badTarget },
  { name: 'asterisk-form target (OPTIONS *)', method: 'OPTIONS', url: '*', expected: badTarget },
  { name: 'an empty target', url: '', expected: badTarget },
  { name: 'a target starting with a backslash', url: '\\healthz', expected: badTarget },
  { name: 'dot segment: /..', url: '/..', expected: badTarget },
  { name: 'dot segment: /.', url: '/.', expected: badTarget },
  { name: 'dot segment: /../etc/passwd', url: '/../etc/passwd', expected: badTarget },
  { name: 'dot segment: /a/../healthz', url: '/a/../healthz', expected: badTarget },
  { name: 'dot segment: /a/./b', url: '/a/./b', expected: badTarget },
  { name: 'dot segment at the end: /a/..', url: '/a/..', expected: badTarget },
  { name: 'dot segment before a query: /a/..?x=1', url: '/a/..?x=1', expected: badTarget },
  { name: 'percent-encoded dots: /%2e%2e/x', url: '/%2e%2e/x', expected: badTarget },
  { name: 'percent-encoded dots in upper case: /%2E%2E/x', url: '/%2E%2E/x', expected: badTarget },
  { name: 'mixed dots: /.%2e/x', url: '/.%2e/x', expected: badTarget },
  { name: 'mixed dots: /%2e./x', url: '/%2e./x', expected: badTarget },
  { name: 'percent-encoded single dot: /a/%2e/b', url: '/a/%2e/b', expected: badTarget },
  { name: 'percent-encoded slashes: /a%2f..%2fb', url: '/a%2f..%2fb', expected: badTarget },
  { name: 'percent-encoded slash before: /a%2F..', url: '/a%2F..', expected: badTarget },
  { name: 'percent-encoded slash after: /..%2Fx', url: '/..%2Fx', expected: badTarget },
  { name: 'backslashes (WHATWG URL separators): /healthz\\..\\x', url: '/healthz\\..\\x', expected: badTarget },
  { name: 'backslash before: /a\\..', url: '/a\\..', expected: badTarget },
  { name: 'backslash after: /..\\x', url: '/..\\x', expected: badTarget },
  { name: 'percent-encoded backslash before: /a%5c..', url: '/a%5c..', expected: badTarget },
  { name: 'percent-encoded backslash after: /..%5Cx', url: '/..%5Cx', expected: badTarget },
  { name: 'a fragment mark ends the segment: /x/..#y', url: '/x/..#y', expected: badTarget },
  { name: 'a fragment mark after one dot: /x/.#y', url: '/x/.#y', expected: badTarget },
  { name: 'the bad target wins over a bad version', url: '*', httpVersion: '2.0', expected: badTarget },
  { name: 'the bad target wins over ambiguous framing', url: 'http://x/', rawHeaders: [...H, 'Content-Length', '1', 'Content-Length', '2'], expected: badTarget },
  // Near misses: dots that are not whole segments, and dots in the query, pass.
  { name: 'near miss: /a..b', url: '/a..b', expected: FORWARD },
  { name: 'near miss: /.well-known/x', url: '/.well-known/x', expected: FORWARD },
  { name: 'near miss: /x.', url: '/x.', expected: FORWARD },
  { name: 'near miss: /..a', url: '/..a', expected: FORWARD },
  { name: 'near miss: /a/b..', url: '/a/b..', expected: FORWARD },
  { name: 'near miss: three dots /.../x', url: '/.../x', expected: FORWARD },
  { name: 'near miss: three encoded dots /%2e%2e%2e', url: '/%2e%2e%2e', expected: FORWARD },
  { name: 'near miss: an empty segment /a//b', url: '/a//b', expected: FORWARD },
  { name: 'near miss: dots after a fragment mark /x#..', url: '/x#..', expected: FORWARD },
  { name: 'near miss: an encoded percent %252e%252e', url: '/%252e%252e/x', expected: FORWARD },
  { name: 'query holding ../../: /search?q=../../etc', url: '/search?q=../../etc', expected: FORWARD },
  { name: 'query holding /./: /?x=/./', url: '/?x=/./', expected: FORWARD },
  { name: 'query of dots only: /a?..', url: '/a?..', expected: FORWARD },
  { name: 'query holding encoded dots: /a?p=%2e%2e%2f', url: '/a?p=%2e%2e%2f', expected: FORWARD },

  // HTTP versions: 1.1 and 1.0 only.
  { name: 'HTTP/0.9', httpVersion: '0.9', expected: badVersion('0.9') },
  { name: 'HTTP/2.0', httpVersion: '2.0', expected: badVersion('2.0') },
  { name: 'HTTP/1.2', httpVersion: '1.2', expected: badVersion('1.2') },
  { name: 'the bad version wins over ambiguous framing', httpVersion: '2.0', rawHeaders: [...H, 'Transfer-Encoding', 'chunked', 'Content-Length', '1'], expected: badVersion('2.0') },
  { name: 'HTTP/1.0 with Host is forwarded', httpVersion: '1.0', expected: FORWARD },

  // Ambiguous framing: 400 and the connection closed, whatever the path or state.
  { name: 'several Host', rawHeaders: ['Host', 'a', 'Host', 'b'], expected: ambiguous('several Host headers') },
  { name: 'several Content-Length, same value', method: 'POST', rawHeaders: [...H, 'Content-Length', '3', 'Content-Length', '3'], expected: ambiguous('several Content-Length headers') },
  { name: 'several Content-Length, different values', method: 'POST', rawHeaders: [...H, 'Content-Length', '3', 'Content-Length', '4'], expected: ambiguous('several Content-Length headers') },
  { name: 'Content-Length with a sign', method: 'POST', rawHeaders: [...H, 'Content-Length', '+3'], expected: ambiguous('an invalid Content-Length') },
  { name: 'Transfer-Encoding and Content-Length', method: 'POST', rawHeaders: [...H, 'Transfer-Encoding', 'chunked', 'Content-Length', '3'], expected: ambiguous('both Transfer-Encoding and Content-Length') },
  { name: 'a POST with Transfer-Encoding: gzip, chunked', method: 'POST', rawHeaders: [...H, 'Transfer-Encoding', 'gzip, chunked'], expected: ambiguous('a Transfer-Encoding other than exactly chunked') },
  { name: 'Transfer-Encoding on HTTP/1.0', method: 'POST', httpVersion: '1.0', rawHeaders: [...H, 'Transfer-Encoding', 'chunked'], expected: ambiguous('Transfer-Encoding in an HTTP/1.0 request') },
  { name: 'Connection naming x-forwarded-for', rawHeaders: [...H, 'Connection', 'X-Forwarded-For'], expected: ambiguous('Connection names x-forwarded-for') },
  { name: 'an upgrade with a body', rawHeaders: [...WS, 'Content-Length', '4'], upgrade: 'websocket', expected: ambiguous('a WebSocket upgrade with a body') },
  { name: 'ambiguous framing to /healthz is refused, not answered', url: '/healthz', rawHeaders: [...H, 'Content-Length', '1', 'Content-Length', '1'], expected: ambiguous('several Content-Length headers') },
  { name: 'ambiguous framing while the gateway starts is refused, not 503', rawHeaders: [...H, 'Transfer-Encoding', 'chunked', 'Content-Length', '3'], view: { gatewayState: 'starting', draining: false }, expected: ambiguous('both Transfer-Encoding and Content-Length') },
  { name: 'ambiguous framing while draining closes without counting a drain refusal', rawHeaders: ['Host', 'a', 'Host', 'b'], view: DRAINING, expected: ambiguous('several Host headers') },

  // The health endpoints: GET and HEAD, answered here, with or without Host, never upgraded.
  { name: 'GET /healthz', url: '/healthz', expected: health(200, 'ready', READY) },
  { name: 'HEAD /healthz', method: 'HEAD', url: '/healthz', expected: health(200, 'ready', READY) },
  { name: 'GET /readyz', url: '/readyz', expected: health(200, 'ready', READY) },
  { name: 'HEAD /readyz', method: 'HEAD', url: '/readyz', expected: health(200, 'ready', READY) },
  { name: 'GET /healthz with a query', url: '/healthz?probe=1', expected: health(200, 'ready', READY) },
  { name: 'GET /readyz without Host (old health checkers)', url: '/readyz', rawHeaders: [], expected: health(200, 'ready', READY) },
  { name: 'GET /healthz over HTTP/1.0 without Host', url: '/healthz', httpVersion: '1.0', rawHeaders: [], expected: health(200, 'ready', READY) },
  { name: 'GET /readyz while starting: 503 from readiness, not the 503 of a refusal', url: '/readyz', view: { gatewayState: 'starting', draining: false }, expected: health(503, 'starting', { gatewayState: 'starting', draining: false }) },
  { name: 'GET /healthz while starting: alive', url: '/healthz', view: { gatewayState: 'starting', draining: false }, expected: health(200, 'starting', { gatewayState: 'starting', draining: false }) },
  { name: 'GET /healthz after failing for good: 503', url: '/healthz', view: { gatewayState: 'failed', draining: false }, expected: health(503, 'failed', { gatewayState: 'failed', draining: false }) },
  { name: 'GET /healthz during the drain: 200, connection closed, not a drain refusal', url: '/healthz', view: DRAINING, expected: health(200, 'draining', DRAINING) },
  { name: 'GET /readyz during the drain: 503, connection closed, not a drain refusal', url: '/readyz', view: DRAINING, expected: health(503, 'draining', DRAINING) },
  { name: 'GET /readyz while announcing a stop: 503 draining, connection kept', url: '/readyz', view: { gatewayState: 'ready', draining: false, announcing: true }, expected: { ...health(503, 'draining', READY) } },
  { name: 'GET /readyz with a backoff gateway also failing its probe: 503 names the gateway state, not unresponsive', url: '/readyz', view: { gatewayState: 'backoff', draining: false, unresponsive: true }, expected: health(503, 'backoff', { gatewayState: 'backoff', draining: false }) },
  { name: 'GET /readyz with a ready gateway failing its probe: 503 unresponsive', url: '/readyz', view: { gatewayState: 'ready', draining: false, unresponsive: true }, expected: health(503, 'unresponsive', READY) },
  { name: 'POST /healthz: 405 with Allow', method: 'POST', url: '/healthz', expected: methodNotAllowed(false) },
  { name: 'PUT /readyz: 405 with Allow', method: 'PUT', url: '/readyz', expected: methodNotAllowed(false) },
  { name: 'DELETE /healthz: 405 with Allow', method: 'DELETE', url: '/healthz', expected: methodNotAllowed(false) },
  { name: 'OPTIONS /readyz: 405 with Allow', method: 'OPTIONS', url: '/readyz', expected: methodNotAllowed(false) },
  { name: 'PATCH /healthz: 405 with Allow', method: 'PATCH', url: '/healthz', expected: methodNotAllowed(false) },
  { name: 'methods are case-sensitive (RFC 9110 §9.1): get /healthz is 405', method: 'get', url: '/healthz', expected: methodNotAllowed(false) },
  { name: 'POST /readyz during the drain: 405, connection closed', method: 'POST', url: '/readyz', view: DRAINING, expected: methodNotAllowed(true) },
  { name: 'POST /healthz without Host: 405 (no Host needed here)', method: 'POST', url: '/healthz', rawHeaders: [], expected: methodNotAllowed(false) },
  { name: 'an upgrade to /healthz: not a WebSocket endpoint', url: '/healthz', rawHeaders: WS, upgrade: 'websocket', expected: notWebSocketEndpoint },
  { name: 'an upgrade to /readyz: not a WebSocket endpoint', url: '/readyz', rawHeaders: WS, upgrade: 'websocket', expected: notWebSocketEndpoint },
  { name: 'an upgrade to /readyz during the drain: not a WebSocket endpoint', url: '/readyz?x', rawHeaders: WS, upgrade: 'websocket', view: DRAINING, expected: notWebSocketEndpoint },
  { name: 'a POST upgrade to /healthz: the upgrade is named first', method: 'POST', url: '/healthz', rawHeaders: WS, upgrade: 'h2c', expected: notWebSocketEndpoint },
  { name: '/healthz/ is not a health endpoint: forwarded', url: '/healthz/', expected: FORWARD },
  { name: '/readyz/x is not a health endpoint: forwarded', url: '/readyz/x', expected: FORWARD },

  // Upgrades: WebSocket only, on GET over HTTP/1.1.
  { name: 'an upgrade to h2c', rawHeaders: WS, upgrade: 'h2c', expected: unsupportedUpgrade },
  { name: 'an upgrade to "websocket, h2c"', rawHeaders: WS, upgrade: 'websocket, h2c', expected: unsupportedUpgrade },
  { name: 'an upgrade to TLS/1.0', rawHeaders: WS, upgrade: 'TLS/1.0', expected: unsupportedUpgrade },
  { name: 'a WebSocket upgrade on POST', method: 'POST', rawHeaders: WS, upgrade: 'websocket', expected: unsupportedUpgrade },
  { name: 'a WebSocket upgrade over HTTP/1.0', httpVersion: '1.0', rawHeaders: WS, upgrade: 'websocket', expected: unsupportedUpgrade },
  { name: 'an unsupported upgrade is refused before the Host check', rawHeaders: [], upgrade: 'h2c', expected: unsupportedUpgrade },
  { name: 'an unsupported upgrade is refused even while the gateway is not ready', rawHeaders: WS, upgrade: 'h2c', view: { gatewayState: 'backoff', draining: false }, expected: unsupportedUpgrade },

  // Host: required for everything forwarded (the engine would otherwise send the gateway's own).
  { name: 'a GET without Host', rawHeaders: [], expected: noHost },
  { name: 'an HTTP/1.0 GET without Host', httpVersion: '1.0', rawHeaders: [], expected: noHost },
  { name: 'a header whose name only contains host is not a Host', rawHeaders: ['X-Forwarded-Host', 'example.com'], expected: noHost },
  { name: 'a WebSocket upgrade without Host', rawHeaders: ['Upgrade', 'websocket', 'Connection', 'Upgrade'], upgrade: 'websocket', expected: noHost },
  { name: 'a missing Host is named before the gateway state', rawHeaders: [], view: { gatewayState: 'starting', draining: false }, expected: noHost },

  // Not serving: 503 with Retry-After; during the drain the connection closes and the refusal is counted.
  ...(['idle', 'starting', 'backoff', 'stopping', 'stopped', 'failed'] as const).flatMap((state: GatewayState): AdmitRow[] => [
    { name: `gateway ${state}: a request gets 503 ${state}, the connection kept`, view: { gatewayState: state, draining: false }, expected: unavailable(state, false, false) },
    { name: `gateway ${state}: an upgrade gets 503 ${state} and the connection closed`, rawHeaders: WS, upgrade: 'websocket', view: { gatewayState: state, draining: false }, expected: unavailable(state, true, false) },
    { name: `gateway ${state}, draining: 503 draining, closed, counted`, view: { gatewayState: state, draining: true }, expected: unavailable('draining', true, true) },
    { name: `gateway ${state}, announcing: 503 ${state} (announcing is not draining)`, view: { gatewayState: state, draining: false, announcing: true }, expected: unavailable(state, false, false) },
  ]),
  { name: 'gateway ready, draining: 503 draining, closed, counted', view: DRAINING, expected: unavailable('draining', true, true) },
  { name: 'gateway ready, draining: an upgrade gets 503 draining, closed, counted', rawHeaders: WS, upgrade: 'websocket', view: DRAINING, expected: unavailable('draining', true, true) },
  { name: 'gateway ready, draining: a POST gets 503 draining, closed, counted', method: 'POST', url: '/api', rawHeaders: [...H, 'Content-Length', '3'], view: DRAINING, expected: unavailable('draining', true, true) },
];

describe('admit: the front door rules, in order (header count, target, version, framing, own endpoints, upgrade, Host, availability)', () => {
  it.each(ADMIT_ROWS)('$name', ({ method, url, httpVersion, rawHeaders, upgrade, view, expected }) => {
    const arrival: Arrival = { method: method ?? 'GET', url: url ?? '/', httpVersion: httpVersion ?? '1.1', rawHeaders: rawHeaders ?? H, upgrade: upgrade ?? null };
    expect(admit(arrival, view ?? READY)).toEqual(expected);
  });

  it('every row has a name of its own', () => {
    const names = [...FRAMING_ROWS, ...ADMIT_ROWS].map((row) => row.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });
});
