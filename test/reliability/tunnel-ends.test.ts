import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inProcessFrontDoor } from '../helpers/in-process-front-door.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { CUT_GRACE_MS, FrontDoor } from '../../src/front-door/front-door.js';
import { LINGER_MS } from '../../src/front-door/responses.js';
import { pollUntil } from '../helpers/proc.js';
import { scenario } from './helpers/figures.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const SEQUENCED_GATEWAY = join(ROOT, 'test', 'helpers', 'sequenced-gateway.mjs');

/**
 * Issue 10: "every tunnel ends, and in time". A client that stops reading (backpressure all the
 * way back to the gateway) must not keep a tunnel, a drain or an exit waiting.
 */

/** A WebSocket client on a raw socket that completes the handshake and then never reads again. */
async function stalledClient(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`no 101: ${head.slice(0, 200)}`));
    };
    socket.on('data', onData);
  });
  return socket;
}

describe('WebSocket tunnels end in bounded time, whatever the client does', () => {
  let gateway: WebSocketServer;
  let frontDoor: FrontDoor;
  let port: number;
  /** What the fake gateway does with each new session. */
  let onSession: (ws: WebSocket) => void = () => undefined;
  const clients: net.Socket[] = [];

  beforeAll(async () => {
    gateway = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    gateway.on('connection', (ws) => onSession(ws));
    await new Promise((resolve) => gateway.once('listening', resolve));
    ({ frontDoor, port } = await inProcessFrontDoor((gateway.address() as AddressInfo).port));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });

  afterAll(async () => {
    frontDoor?.startDrain();
    await frontDoor?.cutRemaining();
    await new Promise((resolve) => gateway?.close(resolve));
  });

  /** Floods the session until the client's side is backed up, then calls `then`. */
  const flood = (ws: WebSocket, then: () => void): void => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    const pump = (): void => {
      while (sent < 64 * 1024 * 1024 && ws.bufferedAmount < 4 * 1024 * 1024) {
        ws.send(chunk);
        sent += chunk.length;
      }
      // Backed up: the front door paused the gateway side because the client does not read.
      if (ws.bufferedAmount >= 4 * 1024 * 1024) then();
      else setTimeout(pump, 5);
    };
    pump();
  };

  it(`a never-reading client whose session the gateway closes (close frame, then FIN) is released within the linger bound (${LINGER_MS} ms)`, async () => {
    // What ws (and so the gateway) does: a close frame, then the end of its side of the connection
    // once its close timeout passes; here at once, so the test does not wait ws's 30 s. The client
    // never reads nor closes: our side would sit in FIN-WAIT-2 for ever without the linger bound.
    const fig = scenario('backpressure.tunnel-client-never-reads-gateway-closes', 'backpressure');
    onSession = (ws) => {
      ws.send('not authenticated');
      ws.close(1008, 'policy');
      (ws as unknown as { _socket: net.Socket })._socket.end();
    };
    clients.push(await stalledClient(port));
    expect(await pollUntil(() => frontDoor.openWebSockets === 1, 3_000)).toBe(true);
    const started = Date.now();
    expect(await pollUntil(() => frontDoor.openWebSockets === 0, LINGER_MS + 5_000)).toBe(true);
    fig.set('releasedAfterMs', Date.now() - started);
    fig.set('lingerBoundMs', LINGER_MS);
    fig.lost('tunnelsLeft', frontDoor.openWebSockets);
    expect(Date.now() - started).toBeLessThan(LINGER_MS + 3_000);
  });

  it('a never-reading client whose gateway session vanishes (terminate) is released too', async () => {
    const fig = scenario('backpressure.tunnel-backed-up-gateway-vanishes', 'backpressure');
    onSession = (ws) => flood(ws, () => ws.terminate());
    clients.push(await stalledClient(port));
    expect(await pollUntil(() => frontDoor.openWebSockets === 1, 3_000)).toBe(true);
    const started = Date.now();
    expect(await pollUntil(() => frontDoor.openWebSockets === 0, LINGER_MS + 5_000)).toBe(true);
    fig.set('releasedAfterMs', Date.now() - started);
    fig.lost('tunnelsLeft', frontDoor.openWebSockets);
  });

  it(`at the drain deadline, never-reading clients are cut within the grace (${CUT_GRACE_MS} ms), not the drain's whole budget`, async () => {
    const fig = scenario('backpressure.drain-cut-never-reading-clients', 'backpressure');
    const backedUp: Promise<void>[] = [];
    onSession = (ws) => backedUp.push(new Promise((resolve) => flood(ws, resolve)));
    for (let i = 0; i < 5; i++) clients.push(await stalledClient(port));
    expect(await pollUntil(() => frontDoor.openWebSockets === 5 && backedUp.length === 5, 3_000)).toBe(true);
    await Promise.all(backedUp);
    const started = Date.now();
    await frontDoor.cutRemaining();
    fig.set('clients', 5);
    fig.set('cutInMs', Date.now() - started);
    fig.lost('tunnelsLeft', frontDoor.openWebSockets);
    expect(Date.now() - started).toBeLessThan(CUT_GRACE_MS + 1_000);
    expect(frontDoor.openWebSockets).toBe(0);
  });
});

describe('a WebSocket handshake under way at the drain deadline', () => {
  it('is cut with the rest: no session opens after cutRemaining()', async () => {
    const fig = scenario('backpressure.handshake-at-deadline', 'backpressure');
    // A gateway that answers the handshake only after 1.5 s.
    const server = http.createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ noServer: true });
    let handshakeArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (handshakeArrived = resolve));
    server.on('upgrade', (req, socket, head) => {
      handshakeArrived();
      setTimeout(() => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(data))), 1_500);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const door = new FrontDoor({ host: '127.0.0.1', port: 0, gatewayPort: (server.address() as AddressInfo).port, trustedProxies: [], logger: pino({ level: 'silent' }), gatewayState: () => 'ready' });
    const doorPort = (await door.listen()).port;
    let client: net.Socket | undefined;
    try {
      expect(await pollUntil(async () => (await fetch(`http://127.0.0.1:${doorPort}/`).catch(() => null)) !== null, 5_000)).toBe(true);
      const socket = net.connect({ port: doorPort, host: '127.0.0.1' });
      client = socket;
      socket.on('error', () => undefined);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      // The handshake is at the gateway, unanswered: under way at the deadline.
      await arrived;
      door.startDrain();
      const started = Date.now();
      await door.cutRemaining();
      fig.set('cutInMs', Date.now() - started);
      const closedInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000))]);
      expect(closedInTime, 'the client socket of the pending handshake is closed by the cut').toBe(true);
      // Past the gateway's late answer: nothing opened.
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      fig.lost('sessionsOpenedAfterCut', door.openWebSockets);
      expect(received).not.toContain('101');
      expect(door.openWebSockets).toBe(0);
    } finally {
      client?.destroy();
      wss.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

/** One masked binary frame of `length` payload bytes, as a client must send it. */
function maskedBinaryFrame(length: number): Buffer {
  const frame = Buffer.alloc(8 + length, 7);
  frame[0] = 0x82;
  frame[1] = 0x80 | 126;
  frame.writeUInt16BE(length, 2);
  frame.writeUInt32BE(0x01020304, 4);
  return frame;
}

describe('exit codes never depend on leftovers', () => {
  let sup: RunningSupervisor | undefined;
  const clients: net.Socket[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await sup?.kill();
    sup = undefined;
  });

  it('a crash loop exits 1 even while never-reading WebSocket clients hold tunnels', async () => {
    const fig = scenario('fault.crash-loop-with-stalled-tunnels', 'fault');
    const dir = mkdtempSync(join(tmpdir(), 'ocs-tunnel-'));
    sup = await startSupervisor({
      gateway: [process.execPath, SEQUENCED_GATEWAY],
      env: {
        // Ready, then a crash 1.5 s later; every later spawn crashes at once: a crash loop.
        FAKE_SEQUENCE: JSON.stringify([{ FAKE_EXIT_AFTER_MS: '1500', FAKE_EXIT_CODE: '1' }, { FAKE_EXIT_CODE: '1' }]),
        FAKE_SEQUENCE_FILE: join(dir, 'spawns'),
        SUPERVISOR_RESTART_LIMIT_BURST: '3',
        SUPERVISOR_RESTART_DELAY_MS: '100',
        SUPERVISOR_RESTART_MAX_DELAY_MS: '400',
      },
    });
    await sup.waitFor('gateway.ready');
    for (let i = 0; i < 3; i++) {
      const client = await stalledClient(sup.port);
      clients.push(client);
      // The fake gateway echoes: 8 MB sent and never read back backs the tunnel up.
      const frame = maskedBinaryFrame(60_000);
      for (let j = 0; j < 140; j++) client.write(frame);
    }
    const exit = await sup.exited;
    fig.set('stalledClients', 3);
    fig.set('exitCode', exit.code);
    expect(exit.code).toBe(1);
    expect(sup.events('supervisor.exited')[0]).toMatchObject({ code: 1, reason: 'gateway crash loop' });
  }, 60_000);
});
