import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loopbackGet } from '../../../src/gateway/loopback-get.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A gateway that takes the request and never answers: `requested` resolves with the request's socket. */
async function silentServer(): Promise<{ port: number; requested: Promise<import('node:net').Socket> }> {
  let seen!: (socket: import('node:net').Socket) => void;
  const requested = new Promise<import('node:net').Socket>((resolve) => (seen = resolve));
  server = http.createServer((req) => seen(req.socket));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, requested };
}

describe('loopbackGet', () => {
  it('ends the exchange when its signal aborts: answer at once, socket closed, long before the timeout', async () => {
    const { port, requested } = await silentServer();
    const controller = new AbortController();
    const startedAt = Date.now();
    const answer = loopbackGet(port, '/healthz', 60_000, null, controller.signal);
    const socket = await requested;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    controller.abort();
    expect(await answer).toEqual({ ok: false, error: 'error' });
    await closed;
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('does not start an exchange for a signal already aborted', async () => {
    const { port } = await silentServer();
    const controller = new AbortController();
    controller.abort();
    expect(await loopbackGet(port, '/healthz', 60_000, null, controller.signal)).toEqual({ ok: false, error: 'error' });
  });

  it('answers with the status and body when there is no signal', async () => {
    server = http.createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    expect(await loopbackGet(port, '/healthz', 5_000, 1024)).toEqual({ ok: true, status: 200, body: '{"ok":true}' });
  });
});
