import type { ForwardableAttribution } from './client-attribution.js';
import { ATTRIBUTION, HOP_BY_HOP, NEVER_HOP_BY_HOP, type BodyFraming, type RequestHead } from './headers.js';

export interface ClientRequestHead extends RequestHead {
  readonly method: string;
  /** The raw request target, as admitted. */
  readonly url: string;
}

/** What goes to the gateway for one client request: the same method and target, and its head rebuilt. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** Flat name/value list: end-to-end headers, this hop's framing, the attribution. */
  readonly headers: string[];
  readonly framing: BodyFraming;
}

const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

/**
 * The one builder of the gateway's request head, for HTTP and WebSocket alike, from a head that
 * passed admission (its framing certain). Dropped: hop-by-hop, framing and attribution headers, and
 * any header the client's `Connection` names (never Host, framing or attribution: admission refused
 * those). Added: for HTTP a known length (a chunked body stays chunked: undici frames it), for a
 * WebSocket this hop's `Connection: Upgrade` and `Upgrade: websocket`; then the attribution. A local
 * client gets no forwarding header at all (an X-Forwarded-For of 127.0.0.1 is refused by the gateway
 * with 403); anyone else gets X-Forwarded-For with exactly one address, the client's, so the gateway
 * (trusting loopback only) takes it as is: the chain was walked here, by the one set of rules.
 * X-Real-IP and Forwarded are never passed: the gateway does not read them, only refuses them alone.
 */
export function upstreamRequest(head: ClientRequestHead, attribution: ForwardableAttribution, kind: 'http' | 'websocket'): UpstreamRequest {
  const raw = head.rawHeaders;
  let headers: string[] = [];
  let framing = NO_BODY;
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      const length = raw[i + 1]!.trim();
      if (Number(length) > 0) framing = { kind: 'length', length };
      continue;
    }
    if (lower === 'transfer-encoding') {
      framing = CHUNKED;
      continue;
    }
    if (lower === 'connection') {
      for (const token of raw[i + 1]!.split(',')) {
        const hop = token.trim().toLowerCase();
        if (hop !== '' && !HOP_BY_HOP.has(hop) && !NEVER_HOP_BY_HOP.has(hop)) (named ??= new Set()).add(hop);
      }
      continue;
    }
    if (HOP_BY_HOP.has(lower) || ATTRIBUTION.has(lower)) continue;
    headers.push(name, raw[i + 1]!);
  }
  // Rare: a Connection header naming fields of its own, which may have come before it.
  if (named !== null) headers = withoutNamed(headers, named);
  if (kind === 'websocket') headers.push('connection', 'Upgrade', 'upgrade', 'websocket');
  else if (framing.kind === 'length') headers.push('content-length', framing.length);
  if (attribution.kind === 'remote') {
    headers.push('x-forwarded-for', attribution.client, 'x-forwarded-proto', attribution.proto);
    if (attribution.host !== undefined) headers.push('x-forwarded-host', attribution.host);
  }
  return { method: head.method, path: head.url, headers, framing };
}

function withoutNamed(headers: readonly string[], named: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!named.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

/** The request head as bytes on the wire (the WebSocket path writes it on a socket of its own, once). */
export function serializeRequestHead(request: UpstreamRequest): string {
  let text = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const headers = request.headers;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${text}\r\n`;
}
