/**
 * The one place that knows which headers belong to a hop, which frame a message and which carry
 * client attribution. The HTTP and WebSocket paths both build their upstream and downstream
 * headers here, so a header can never be dropped on one path and passed on the other.
 */

/** RFC 9110 §7.6.1 hop-by-hop fields, plus those only meaningful to the hop that received them. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  // Node's server has already answered `100 Continue`; the upstream message is re-framed anyway.
  'expect',
]);

/** Framing is recomputed per hop: the client's framing headers describe its connection only. */
export const FRAMING: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding']);

/** Headers the front door derives itself; what a client sends under these names is replaced. */
export const ATTRIBUTION: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded']);

/**
 * A `Connection` header may name further hop-by-hop fields (RFC 9110 §7.6.1), but naming one of
 * these would strip the message's framing, its routing or its attribution on the way upstream:
 * a body could be smuggled past the front door that way, so such a request is refused.
 */
export const NEVER_HOP_BY_HOP: ReadonlySet<string> = new Set(['host', ...FRAMING, ...ATTRIBUTION]);

export interface RequestHead {
  readonly httpVersion: string;
  /** Node's `rawHeaders`: name, value, name, value … as received. */
  readonly rawHeaders: readonly string[];
}

/** What one pass over a request head finds: a framing problem (or null) and whether it names a Host. */
export interface HeadScan {
  readonly problem: string | null;
  readonly hasHost: boolean;
}

/**
 * Why a request's framing is ambiguous (RFC 9112 §6.1–6.3), or null when it is certain. Node's
 * parser already refuses most of these; this check does not rely on that, and also refuses what
 * Node accepts but a proxy must not guess about.
 */
export function framingProblem(head: RequestHead, upgrade: boolean): string | null {
  return scanHead(head, upgrade).problem;
}

/** framingProblem and the Host check in one pass over the head (admission reads both). */
export function scanHead(head: RequestHead, upgrade: boolean): HeadScan {
  let contentLengths = 0;
  let contentLength = '';
  let transferEncodings = 0;
  let transferEncoding = '';
  let hosts = 0;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'content-length') {
      contentLengths++;
      contentLength = raw[i + 1]!.trim();
    } else if (name === 'transfer-encoding') {
      transferEncodings++;
      transferEncoding = raw[i + 1]!.trim().toLowerCase();
    } else if (name === 'host') {
      hosts++;
    } else if (name === 'connection') {
      for (const token of raw[i + 1]!.split(',')) {
        const named = token.trim().toLowerCase();
        if (NEVER_HOP_BY_HOP.has(named)) return { problem: `Connection names ${named}`, hasHost: hosts > 0 || hasHost(head) };
      }
    }
  }
  return { problem: problemOf(contentLengths, contentLength, transferEncodings, transferEncoding, hosts, head.httpVersion, upgrade), hasHost: hosts > 0 };
}

function problemOf(contentLengths: number, contentLength: string, transferEncodings: number, transferEncoding: string, hosts: number, httpVersion: string, upgrade: boolean): string | null {
  if (hosts > 1) return 'several Host headers';
  if (contentLengths > 1) return 'several Content-Length headers';
  if (contentLengths === 1 && !/^[0-9]{1,15}$/.test(contentLength)) return 'an invalid Content-Length';
  if (transferEncodings > 0) {
    if (contentLengths > 0) return 'both Transfer-Encoding and Content-Length';
    if (transferEncodings > 1 || transferEncoding !== 'chunked') return 'a Transfer-Encoding other than exactly chunked';
    if (httpVersion !== '1.1') return 'Transfer-Encoding in an HTTP/1.0 request';
  }
  if (upgrade && (transferEncodings > 0 || (contentLengths > 0 && Number(contentLength) > 0))) return 'a WebSocket upgrade with a body';
  return null;
}

/** How the body of a request whose framing passed `framingProblem` is framed. */
export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: string } | { readonly kind: 'chunked' };

export function hasHost(head: RequestHead): boolean {
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') return true;
  return false;
}

/**
 * A response's headers for the client: hop-by-hop headers dropped (Node's server frames the
 * response itself, keeping a Content-Length the gateway sent).
 */
export function endToEndResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connection = headers['connection'];
  const named = connection === undefined ? null : tokenSet(Array.isArray(connection) ? connection.join(',') : connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * endToEndResponseHeaders for a head as undici reads it (name, value, … as bytes): the same fields
 * dropped, as a flat list of lower-case names and values for `writeHead` (what undici's headers
 * object would hold, each field in its place; repeated fields stay separate lines, as sent).
 */
export function endToEndRawResponseHeaders(raw: readonly Buffer[]): string[] {
  let out: string[] = [];
  // A Connection header naming anything beyond the hop-by-hop fields (the gateway sends keep-alive
  // or close) is rare: only then is a set of named fields built, and the list filtered again.
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (name === 'connection') {
      for (const token of raw[i + 1]!.toString('latin1').split(',')) {
        const hop = token.trim().toLowerCase();
        if (hop !== '' && !HOP_BY_HOP.has(hop)) (named ??= new Set()).add(hop);
      }
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (named !== null) {
    const kept: string[] = [];
    for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
    out = kept;
  }
  return out;
}

export function tokenSet(value: string): Set<string> {
  const set = new Set<string>();
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) set.add(name);
  }
  return set;
}
