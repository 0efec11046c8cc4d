// Shared by the framing suites (in-process front door with a recording upstream, and the real
// gateway): the request classes an attacker would try, a raw reader that knows HEAD, and the model
// of which requests the front door must refuse.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawConnection } from './front-door-clients.js';

/** One request as a client writes it, and what the rules say about it. */
export interface Attempt {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Header lines as sent, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body bytes as framed on the wire (already chunk-encoded when TE is sent). */
  readonly wireBody: Buffer;
  /** The body the server must see after de-framing. */
  readonly body: Buffer;
}

export function encode(attempt: Attempt): Buffer {
  let head = `${attempt.method} ${attempt.target} HTTP/${attempt.version}\r\n`;
  for (const [name, value] of attempt.headers) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), attempt.wireBody]);
}

export function chunked(body: Buffer, chunkSize = 4096): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    const chunk = body.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const ATTRIBUTION = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded'];

/**
 * The rules of issue 10 written down independently of the implementation: the request must be
 * refused (400 and close) when this returns a reason.
 */
export function mustRefuse(attempt: Attempt): string | null {
  const lines = attempt.headers.map(([name, value]) => [name.toLowerCase(), value] as const);
  const cl = lines.filter(([name]) => name === 'content-length');
  const te = lines.filter(([name]) => name === 'transfer-encoding');
  const connection = lines.filter(([name]) => name === 'connection').flatMap(([, value]) => value.split(',').map((t) => t.trim().toLowerCase()));
  if (connection.some((token) => token === 'content-length' || token === 'transfer-encoding' || token === 'host' || ATTRIBUTION.includes(token))) return 'Connection names a protected header';
  if (lines.filter(([name]) => name === 'host').length !== 1) return 'Host count';
  if (cl.length > 1) return 'several Content-Length';
  if (cl.length === 1 && !/^\d+$/.test(cl[0]![1].trim())) return 'Content-Length not a number';
  if (te.length > 0 && cl.length > 0) return 'TE and CL';
  if (te.length > 1 || (te.length === 1 && te[0]![1].trim().toLowerCase() !== 'chunked')) return 'TE not exactly chunked';
  if (te.length > 0 && attempt.version === '1.0') return 'TE in HTTP/1.0';
  return null;
}

/** The connection ends after this request's response. */
export function closesAfter(attempt: Attempt): boolean {
  const connection = attempt.headers.filter(([name]) => name.toLowerCase() === 'connection').flatMap(([, value]) => value.split(',').map((t) => t.trim().toLowerCase()));
  if (attempt.version === '1.0') return !connection.includes('keep-alive');
  return connection.includes('close');
}

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly bodySha: string;
  readonly bodyLength: number;
  readonly headers: Record<string, string | string[] | undefined>;
}

export const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * A strict HTTP server (Node's parser, no lenience) that records every complete request it
 * receives and answers with what it saw in an `x-seen` header. A smuggled request shows up here as
 * an extra record; a request cut short shows up in `aborted`. `/hold` is answered only when the
 * test says so (or never), to see whether a client's departure aborts the upstream request.
 */
export class RecordingUpstream {
  readonly seen: Seen[] = [];
  aborted = 0;
  openRequests = 0;
  readonly #server = http.createServer({ keepAliveTimeout: 5_000, insecureHTTPParser: false });
  port = 0;

  async start(): Promise<void> {
    this.#server.on('request', (req, res) => {
      this.openRequests++;
      let done = false;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const seen: Seen = { method: req.method!, url: req.url!, bodySha: sha(body), bodyLength: body.length, headers: req.headers };
        this.seen.push(seen);
        if (req.url?.startsWith('/hold')) return;
        // A length, so that HTTP/1.0 keep-alive clients can keep their connection; /chunked has none.
        const length = req.url?.startsWith('/chunked') ? {} : { 'content-length': '2' };
        res.writeHead(200, { 'x-seen': JSON.stringify({ method: seen.method, url: seen.url, bodyLength: seen.bodyLength, bodySha: seen.bodySha }), 'content-type': 'text/plain', ...length });
        res.end('ok');
      });
      res.on('close', () => {
        if (!done) this.openRequests--;
        done = true;
        if (!res.writableFinished) this.aborted++;
      });
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async connections(): Promise<number> {
    return new Promise((resolve, reject) => this.#server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

export interface ReadResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
}

/** Reads the next response head on a raw connection; a HEAD response has no body to wait for. */
export async function nextResponse(connection: RawConnection, method: string, timeoutMs = 5_000): Promise<ReadResponse> {
  if (method !== 'HEAD') return connection.readResponse(timeoutMs);
  return connection.readHead(timeoutMs);
}
