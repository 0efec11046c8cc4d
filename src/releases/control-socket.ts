import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * The supervisor's control socket: how `openclaw-supervisor update`, run beside it (docker exec,
 * railway ssh, kubectl exec, a second terminal), asks the running supervisor for a step. A Unix
 * socket in the store's directory (0700, the state dir's owner's): whoever can reach it can
 * already change the state, and nobody on the network can. One JSON request line per connection;
 * the answer is JSON lines: `{"progress": "…"}`…, then `{"result": {…}}` or `{"error": "…"}`.
 */
export const controlSocketPath = (storeDir: string): string => join(storeDir, 'control.sock');

/** A request line longer than this is no request of ours: the connection is closed. */
const MAX_REQUEST_BYTES = 4096;
/** A client that connects and says nothing is let go after this. */
const REQUEST_TIMEOUT_MS = TIME_BOUNDS.controlSocketRequest.ms;

export type ControlHandler = (request: Record<string, unknown>, progress: (line: string) => void) => Promise<unknown>;

/**
 * Listens on `path`. A socket file left by an earlier supervisor that is gone (connection
 * refused) is replaced; one that still answers belongs to a live supervisor on the same state dir
 * and is left alone (null: no control socket here).
 */
export async function listenControl(path: string, handler: ControlHandler): Promise<Server | null> {
  if (await answers(path)) return null;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await unlink(path).catch(() => undefined);
  const server = createServer((socket) => serve(socket, handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  server.unref();
  return server;
}

function serve(socket: Socket, handler: ControlHandler): void {
  let buffered = '';
  let handled = false;
  socket.setEncoding('utf8');
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
    if (!handled) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  const send = (value: unknown): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
  };
  socket.on('data', (chunk: string) => {
    if (handled) return;
    buffered += chunk;
    const end = buffered.indexOf('\n');
    if (end === -1) {
      if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
      return;
    }
    handled = true;
    socket.setTimeout(0);
    let request: unknown;
    try {
      request = JSON.parse(buffered.slice(0, end));
    } catch {
      request = null;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      send({ error: 'the request is not a JSON object' });
      socket.end();
      return;
    }
    handler(request as Record<string, unknown>, (line) => send({ progress: line })).then(
      (result) => send({ result }),
      (error: unknown) => send({ error: error instanceof Error ? error.message : String(error) }),
    ).finally(() => socket.end());
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Sends one request and passes each progress line on; resolves with the result, rejects with the
 * supervisor's error, or with `code` ENOENT/ECONNREFUSED when no supervisor listens.
 */
export function requestControl(path: string, request: Record<string, unknown>, onProgress: (line: string) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffered = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      socket.destroy();
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof message['progress'] === 'string') onProgress(message['progress']);
        else if ('result' in message) finish(() => resolve(message['result']));
        else if (typeof message['error'] === 'string') finish(() => reject(new Error(message['error'] as string)));
      }
    });
    socket.once('error', (error) => finish(() => reject(error)));
    socket.once('close', () => finish(() => reject(new Error('the supervisor closed the connection without an answer (it may be stopping)'))));
  });
}
