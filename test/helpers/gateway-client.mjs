// A minimal OpenClaw gateway protocol client (protocol 4) for tests, usable in-process or as a CLI
// (`node gateway-client.mjs <ws-url> <token-file> [--health]`, prints one JSON line), e.g. inside a
// network namespace. The token is read from a file so it never appears on a command line.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

/** The params of a `connect` request as an operator backend with the shared token (protocol 4). */
export function connectParams(token) {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: 'gateway-client', version: '0.0.1', platform: 'linux', mode: 'backend' },
    role: 'operator',
    scopes: ['operator.admin'],
    auth: { token },
  };
}

/**
 * Opens a session: waits for connect.challenge, sends `connect` with the token, resolves with the
 * hello (or the error response) once answered. `call(method)` sends a request and resolves with its res.
 */
export function openSession(url, token, { timeoutMs = 20_000, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    const events = [];
    const pending = new Map();
    let counter = 0;
    const closed = new Promise((resolveClose) => ws.once('close', (code, reason) => resolveClose({ code, reason: reason.toString() })));
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no connect answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const call = (method, params = {}) =>
      new Promise((resolveCall) => {
        const id = `r${++counter}`;
        pending.set(id, resolveCall);
        ws.send(JSON.stringify({ type: 'req', id, method, params }));
      });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ ws, events, closed, call, hello: null, unexpected: { status: res.statusCode, headers: res.headers, body } }));
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'event') {
        events.push(message);
        if (message.event === 'connect.challenge') {
          call('connect', connectParams(token)).then((hello) => {
            clearTimeout(timer);
            resolve({ ws, events, closed, call, hello, unexpected: null });
          });
        }
      } else if (message.type === 'res' && pending.has(message.id)) {
        pending.get(message.id)(message);
        pending.delete(message.id);
      }
    });
  });
}

/** Connect, optionally `health`, close; everything a test asserts on, as plain data. */
export async function connectAndCheck(url, token, { health = true, headers } = {}) {
  const session = await openSession(url, token, { headers });
  if (session.unexpected) return { unexpected: session.unexpected };
  const result = { hello: { ok: session.hello.ok, type: session.hello.payload?.type ?? null, error: session.hello.error ?? null, scopes: session.hello.payload?.auth?.scopes ?? null } };
  if (session.hello.ok && health) {
    const res = await session.call('health');
    result.health = { ok: res.ok, error: res.error ?? null };
  }
  if (session.hello.ok) session.ws.close(1000, 'done');
  const close = await Promise.race([session.closed, new Promise((resolve) => setTimeout(() => resolve(null), 5_000))]);
  result.close = close;
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [url, tokenFile] = process.argv.slice(2);
  const token = readFileSync(tokenFile, 'utf8').trim();
  connectAndCheck(url, token, { health: process.argv.includes('--health') }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error) => {
      process.stdout.write(`${JSON.stringify({ error: error.message, code: error.code ?? null })}\n`);
      process.exit(0);
    },
  );
}
