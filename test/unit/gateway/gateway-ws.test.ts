import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { probeToken } from '../../../src/gateway/auth-check.js';
import { listPendingPairing } from '../../../src/gateway/pairing-list.js';
import { freePort } from '../../helpers/ports.js';

interface Frame {
  type: string;
  id: string;
  method: string;
  params: { scopes?: string[]; auth?: { token?: string }; role?: string; minProtocol?: number };
}

/** A stand-in gateway on loopback: sends the challenge, records every request, answers with `answer`. */
async function gateway(answer: (frame: Frame, socket: WebSocket) => void): Promise<{ port: number; frames: Frame[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await once(server, 'listening');
  const frames: Frame[] = [];
  server.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n' } }));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      frames.push(frame);
      answer(frame, socket);
    });
  });
  return { port: (server.address() as AddressInfo).port, frames };
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

const res = (frame: Frame, rest: object): string => JSON.stringify({ type: 'res', id: frame.id, ...rest });

describe('the gateway WebSocket conversation (probeToken, listPendingPairing)', () => {
  it('answers the challenge with one connect (protocol 4, operator, the scopes asked, the token)', async () => {
    const gw = await gateway((frame, socket) => {
      if (frame.method === 'connect') socket.send(res(frame, { ok: true }));
      else socket.send(res(frame, { ok: true, payload: { pending: [{ requestId: 'r1', displayName: 'phone' }] } }));
    });
    expect(await probeToken(gw.port, 'tok-1')).toBe('accepted');
    expect(await listPendingPairing(gw.port, 'tok-2')).toEqual([{ requestId: 'r1', displayName: 'phone' }]);
    expect(gw.frames.map((frame) => [frame.id, frame.method, frame.params.scopes, frame.params.auth?.token, frame.params.role, frame.params.minProtocol])).toEqual([
      ['supervisor-auth-check', 'connect', [], 'tok-1', 'operator', 4],
      ['supervisor-pairing-connect', 'connect', ['operator.pairing'], 'tok-2', 'operator', 4],
      ['supervisor-pairing-list', 'device.pair.list', undefined, undefined, undefined, undefined],
    ]);
  });

  it('a refused connect: rejected for an auth code, a refusal naming the code for the list', async () => {
    const gw = await gateway((frame, socket) => socket.send(res(frame, { ok: false, error: { code: 'INVALID_REQUEST', details: { code: 'AUTH_TOKEN_MISMATCH' } } })));
    expect(await probeToken(gw.port, 'wrong')).toBe('rejected');
    await expect(listPendingPairing(gw.port, 'wrong')).rejects.toThrow("the gateway refused the supervisor's connection (INVALID_REQUEST)");
  });

  it('ignores answers to requests it did not make and frames that are not JSON', async () => {
    const gw = await gateway((frame, socket) => {
      socket.send('not json');
      socket.send('null');
      socket.send(JSON.stringify({ type: 'res', id: 'someone-else', ok: false }));
      socket.send(res(frame, { ok: true }));
    });
    expect(await probeToken(gw.port, 't')).toBe('accepted');
  });

  it('a gateway that never answers: unknown / rejected within the timeout', async () => {
    const gw = await gateway(() => undefined);
    const started = Date.now();
    expect(await probeToken(gw.port, 'secret-token', 300)).toBe('unknown');
    await expect(listPendingPairing(gw.port, 'secret-token', 300)).rejects.toThrow('the gateway did not list its pairing requests within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('closed early and nobody listening', async () => {
    const gw = await gateway((_frame, socket) => socket.close());
    expect(await probeToken(gw.port, 't')).toBe('unknown');
    await expect(listPendingPairing(gw.port, 't')).rejects.toThrow('the gateway closed the connection before listing its pairing requests');
    const nobody = await freePort();
    expect(await probeToken(nobody, 't')).toBe('unknown');
    await expect(listPendingPairing(nobody, 't')).rejects.toThrow(`cannot reach the gateway on 127.0.0.1:${nobody}`);
  });
});
