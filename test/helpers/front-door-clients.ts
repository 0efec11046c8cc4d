import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import WebSocket, { type ClientOptions } from 'ws';

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- HTTP with node:http

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly sha256: string;
  readonly localPort: number | undefined;
  readonly reusedSocket: boolean;
}

export interface HttpOptions {
  readonly port: number;
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly agent?: http.Agent | false;
  /** A buffer, or a stream piped as the body (chunked unless a content-length header is given). */
  readonly body?: Buffer | string | Readable;
  readonly timeoutMs?: number;
}

/** One request through node:http (raw headers, socket reuse and streamed bodies visible); rejects on a connection error or after timeoutMs. */
export function httpRequest(options: HttpOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const req = http.request({
      host: options.host ?? '127.0.0.1',
      port: options.port,
      path: options.path ?? '/',
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: options.agent ?? false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once('response', (res) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        chunks.push(chunk);
      });
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.once('aborted', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }));
      });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
          sha256: hash.digest('hex'),
          localPort: req.socket?.localPort,
          reusedSocket: req.reusedSocket,
        });
      });
    });
    const body = options.body;
    if (body instanceof Readable) {
      body.once('error', (error) => req.destroy(error));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

/** A readable of `total` pseudo-random bytes produced chunk by chunk, and the sha256 of what it produced. */
export function generatedBody(total: number, chunkSize = 64 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 0x2545f491;
  const stream = new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, total - sent);
      const chunk = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        chunk[i] = seed >>> 24;
      }
      sent += size;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.copy().digest('hex') };
}

// ---------------------------------------------------------------- raw sockets

export interface RawResponse {
  readonly statusLine: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A loopback TCP connection on which the test writes HTTP by hand (fetch and node:http normalise what we need raw). */
/** Resolves when the `wake` it hands out is called (new data, a close) or after `ms`. */
function wakeOrTimeout(ms: number, install: (wake: (() => void) | null) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      install(null);
      resolve();
    }, ms);
    install(() => {
      clearTimeout(timer);
      install(null);
      resolve();
    });
  });
}

export class RawConnection {
  readonly socket: net.Socket;
  readonly closed: Promise<{ hadError: boolean }>;
  #buffer = Buffer.alloc(0);
  #isClosed = false;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', (hadError) => {
        this.#isClosed = true;
        this.#wake?.();
        resolve({ hadError });
      }),
    );
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${host}:${port} timed out`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete response (by Content-Length, or up to the close); rejects after timeoutMs. */
  async readResponse(timeoutMs = 5_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.#tryParse();
      if (parsed) return parsed;
      if (this.#isClosed) throw new Error(`connection closed before a complete response; got ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await wakeOrTimeout(left, (wake) => (this.#wake = wake));
    }
  }

  /** The next response head only (a response to HEAD has no body, whatever its Content-Length says). */
  async readHead(timeoutMs = 5_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end !== -1) {
        const { statusLine, headers } = parseHead(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end + 4);
        return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: '' };
      }
      if (this.#isClosed) throw new Error(`connection closed before a response head; got ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response head within ${timeoutMs} ms; got ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await wakeOrTimeout(left, (wake) => (this.#wake = wake));
    }
  }

  /** Resolves true once the server closed the connection, false if it is still open after timeoutMs. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), delay(timeoutMs).then(() => this.#isClosed)]);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #tryParse(): RawResponse | null {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const { statusLine, headers } = parseHead(this.#buffer.subarray(0, end));
    const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    const bodyStart = end + 4;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const decoded = decodeChunked(this.#buffer.subarray(bodyStart));
      if (!decoded) return null;
      this.#buffer = this.#buffer.subarray(bodyStart + decoded.consumed);
      return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: decoded.body.toString('utf8') };
    }
    let bodyEnd: number;
    if (length !== null) {
      if (this.#buffer.length < bodyStart + length) return null;
      bodyEnd = bodyStart + length;
    } else {
      if (!this.#isClosed) return null;
      bodyEnd = this.#buffer.length;
    }
    const body = this.#buffer.subarray(bodyStart, bodyEnd).toString('utf8');
    this.#buffer = this.#buffer.subarray(bodyEnd);
    return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body };
  }
}

function parseHead(data: Buffer): { statusLine: string; headers: Record<string, string> } {
  const head = data.toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusLine: head[0] ?? '', headers };
}

/** A complete chunked body at the start of `data` (no trailers), or null while incomplete. */
function decodeChunked(data: Buffer): { body: Buffer; consumed: number } | null {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(data.subarray(offset, lineEnd).toString('latin1'))}`);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return null;
    if (size === 0) return { body: Buffer.concat(parts), consumed: start + 2 };
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** One raw request on a fresh connection: the response and whether the server closed the connection after it. */
export async function rawExchange(port: number, request: string, host = '127.0.0.1', timeoutMs = 5_000): Promise<RawResponse & { serverClosed: boolean }> {
  const connection = await RawConnection.open(port, host, timeoutMs);
  try {
    connection.write(request);
    const response = await connection.readResponse(timeoutMs);
    const serverClosed = await connection.closedWithin(2_000);
    return { ...response, serverClosed };
  } finally {
    connection.destroy();
  }
}

/** Resolves with the connect error code, or 'connected' (the socket is closed again at once). */
export function tryConnect(port: number, host = '127.0.0.1', timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

// ---------------------------------------------------------------- WebSocket

export interface Message {
  readonly data: Buffer;
  readonly isBinary: boolean;
  readonly text: string;
}

/** Every message a WebSocket receives, in order, and how it closed. */
export class WsProbe {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  readonly errors: Error[] = [];
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  #read = 0;
  #wake: (() => void) | null = null;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.messages.push({ data: buffer, isBinary, text: isBinary ? '' : buffer.toString('utf8') });
      this.#wake?.();
    });
    ws.on('error', (error) => {
      this.errors.push(error);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.#wake?.();
        resolve({ code, reason: reason.toString(), at: Date.now() });
      }),
    );
  }

  /** The next message not read yet; rejects after timeoutMs or once the socket closed without one. */
  async next(timeoutMs = 5_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.messages[this.#read];
      if (message) {
        this.#read++;
        return message;
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('WebSocket closed before the next message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no WebSocket message within ${timeoutMs} ms`);
      await wakeOrTimeout(left, (wake) => (this.#wake = wake));
    }
  }

  closedWithin(timeoutMs: number): Promise<{ code: number; reason: string; at: number }> {
    return within(this.closed, timeoutMs, 'WebSocket close');
  }
}

/** Opens a WebSocket; resolves once open, rejects on an error, a non-101 answer or after timeoutMs. */
export function openWebSocket(url: string, protocols: string[] = [], options: ClientOptions = {}, timeoutMs = 10_000): Promise<WsProbe> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: timeoutMs, ...options });
    const probe = new WsProbe(ws);
    ws.once('open', () => resolve(probe));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`unexpected response ${res.statusCode}`));
    });
  });
}

export interface UpgradeRefusal {
  readonly statusCode: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Attempts a WebSocket upgrade that must be refused with an HTTP answer; rejects if it opens or errors instead. */
export function refusedUpgrade(url: string, timeoutMs = 10_000): Promise<UpgradeRefusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade succeeded'));
    });
    // terminate() during the handshake emits an error after we resolved: swallowed here.
    ws.on('error', (error) => reject(error));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        ws.terminate();
      });
      res.once('error', reject);
    });
  });
}
