import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcessFrontDoor } from '../helpers/in-process-front-door.js';
import type { FrontDoor } from '../../src/front-door/front-door.js';
import { MAX_HANDSHAKE_HEAD_BYTES, acceptFor } from '../../src/front-door/ws-handshake.js';
import { pollUntil } from '../helpers/proc.js';

/**
 * The WebSocket upgrade on its raw socket to the gateway, against a fake gateway that answers each
 * way a 101 can go wrong: the client must get a refusal and lose its connection, and the gateway's
 * socket must be destroyed; a good 101 must tunnel, whatever the packets.
 */

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = acceptFor(KEY);
const UPGRADE = `GET /ws?x=1 HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`;
const GOOD_101 = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`;
/** A server text frame "hi" (unmasked) and a client one (masked, key 0). */
const SERVER_FRAME = Buffer.from([0x81, 0x02, 0x68, 0x69]);
const CLIENT_FRAME = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);

interface GatewaySide {
  socket: net.Socket;
  head: string;
  /** Bytes after the request head. */
  rest: Buffer;
  closed: Promise<void>;
}

type Behaviour = (side: GatewaySide) => void | Promise<void>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('front door: the raw WebSocket upgrade to the gateway', () => {
  let gateway: net.Server;
  let frontDoor: FrontDoor;
  let port: number;
  let behaviour: Behaviour = () => undefined;
  let sides: GatewaySide[] = [];

  beforeAll(async () => {
    gateway = net.createServer((socket) => {
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      let side: GatewaySide | null = null;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('data', (chunk) => {
        if (side !== null) {
          side.rest = Buffer.concat([side.rest, chunk]);
          return;
        }
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        side = { socket, head: buffered.toString('latin1', 0, end + 4), rest: buffered.subarray(end + 4), closed };
        sides.push(side);
        void behaviour(side);
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    // Forwarding starts once the engine has loaded: an answer from the fake gateway says it has.
    behaviour = ({ socket }) => void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    ({ frontDoor, port } = await inProcessFrontDoor((gateway.address() as AddressInfo).port));
  });

  beforeEach(() => {
    sides = [];
  });

  afterAll(async () => {
    frontDoor?.startDrain();
    await frontDoor?.cutRemaining();
    await new Promise((resolve) => gateway?.close(resolve));
  });

  /** A raw client: sends `request`, collects all it gets until the front door closes or `waitMs` pass. */
  async function exchange(request: string | Buffer, waitMs = 3_000, then?: (client: net.Socket, received: () => Buffer) => Promise<void>): Promise<{ received: Buffer; closed: boolean }> {
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    let received = Buffer.alloc(0);
    client.on('data', (chunk) => (received = Buffer.concat([received, chunk])));
    const closed = new Promise<boolean>((resolve) => {
      client.once('close', () => resolve(true));
      setTimeout(() => resolve(false), waitMs);
    });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.write(request);
    if (then) await then(client, () => received);
    const wasClosed = await closed;
    client.destroy();
    return { received, closed: wasClosed };
  }

  const statusOf = (received: Buffer): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(received.toString('latin1'))?.[1] ?? 0);

  it('tunnels a good 101: its head relayed, the frames in its packet passed on, the client early frame passed after it', async () => {
    behaviour = ({ socket }) => void socket.write(Buffer.concat([Buffer.from(GOOD_101, 'latin1'), SERVER_FRAME]));
    const errorsBefore = frontDoor.stats().upstreamErrors.websocket;
    const { received, closed } = await exchange(Buffer.concat([Buffer.from(UPGRADE, 'latin1'), CLIENT_FRAME]), 800);
    expect(closed).toBe(false);
    const text = received.toString('latin1');
    expect(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(text.toLowerCase()).toContain(`sec-websocket-accept: ${ACCEPT.toLowerCase()}`);
    expect(text.toLowerCase()).toContain('sec-websocket-protocol: chat');
    expect(received.subarray(received.indexOf('\r\n\r\n') + 4)).toEqual(SERVER_FRAME);
    const [side] = sides;
    expect(side!.head.startsWith('GET /ws?x=1 HTTP/1.1\r\n')).toBe(true);
    expect(side!.head).toContain('connection: Upgrade\r\nupgrade: websocket\r\n');
    expect(side!.head).toContain(`Sec-WebSocket-Key: ${KEY}\r\n`);
    expect(side!.rest).toEqual(CLIENT_FRAME);
    expect(frontDoor.stats().upstreamErrors.websocket).toBe(errorsBefore);
  });

  it('tunnels a 101 that arrives one byte per packet', async () => {
    behaviour = async ({ socket }) => {
      for (const byte of Buffer.from(GOOD_101, 'latin1')) {
        socket.write(Buffer.from([byte]));
        await sleep(1);
      }
      socket.write(SERVER_FRAME);
    };
    const { received, closed } = await exchange(UPGRADE, 2_000, async (client, got) => {
      await pollUntil(async () => got().length >= GOOD_101.length + SERVER_FRAME.length, 5_000);
      client.write(CLIENT_FRAME);
      await pollUntil(async () => sides[0]!.rest.length >= CLIENT_FRAME.length, 2_000);
      client.end();
    });
    expect(statusOf(received)).toBe(101);
    // The frame, then (the fake gateway closing with the client's half-close) the front door's 1012 close.
    expect(received.subarray(received.indexOf('\r\n\r\n') + 4, received.indexOf('\r\n\r\n') + 4 + SERVER_FRAME.length)).toEqual(SERVER_FRAME);
    expect(sides[0]!.rest).toEqual(CLIENT_FRAME);
    expect(closed).toBe(true);
  });

  it.each<[string, string]>([
    ['no Sec-WebSocket-Accept', GOOD_101.replace(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`, '')],
    ['a wrong Sec-WebSocket-Accept', GOOD_101.replace(ACCEPT, acceptFor('another'))],
    ['no Upgrade', GOOD_101.replace('Upgrade: websocket\r\n', '')],
    ['two Upgrades', GOOD_101.replace('Upgrade: websocket\r\n', 'Upgrade: websocket\r\nUpgrade: websocket\r\n')],
    ['a Content-Length', GOOD_101.replace('\r\n\r\n', '\r\nContent-Length: 4\r\n\r\n')],
    ['a bare LF', GOOD_101.replace('Connection: Upgrade\r\n', 'Connection: Upgrade\n')],
    ['HTTP/1.0', GOOD_101.replace('HTTP/1.1', 'HTTP/1.0')],
    ['a 100 Continue before it', `HTTP/1.1 100 Continue\r\n\r\n${GOOD_101}`],
    ['an obs-fold', GOOD_101.replace('Connection: Upgrade', 'Connection:\r\n Upgrade')],
    ['not HTTP at all', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
  ])('refuses a 101 with %s: 502 to the client, both sockets gone', async (_name, answer) => {
    behaviour = ({ socket }) => void socket.write(Buffer.concat([Buffer.from(answer, 'latin1'), SERVER_FRAME]));
    const errorsBefore = frontDoor.stats().upstreamErrors.websocket;
    const { received, closed } = await exchange(UPGRADE);
    expect(statusOf(received)).toBe(502);
    expect(JSON.parse(received.toString('latin1').split('\r\n\r\n')[1]!)).toMatchObject({ error: 'bad_gateway' });
    // No frame of the refused session leaks to the client.
    expect(received.includes(SERVER_FRAME)).toBe(false);
    expect(closed).toBe(true);
    await sides[0]!.closed;
    expect(frontDoor.stats().upstreamErrors.websocket).toBe(errorsBefore + 1);
  });

  it('refuses a head that never ends past its bound (the gateway keeps sending)', async () => {
    behaviour = async ({ socket }) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\n');
      for (let sent = 0; sent < 4 * MAX_HANDSHAKE_HEAD_BYTES && !socket.destroyed; sent += 1024) {
        socket.write(`X-Pad: ${'a'.repeat(1014)}\r\n`);
        await sleep(1);
      }
    };
    const { received, closed } = await exchange(UPGRADE);
    expect(statusOf(received)).toBe(502);
    expect(closed).toBe(true);
    await sides[0]!.closed;
  });

  it('refuses a gateway that closes before answering', async () => {
    behaviour = ({ socket }) => void socket.end();
    const { received, closed } = await exchange(UPGRADE);
    expect(statusOf(received)).toBe(502);
    expect(closed).toBe(true);
  });

  it.each<[string, string, number, string]>([
    ['401 with a length', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nunauthorized', 401, 'unauthorized'],
    ['403 until close', 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden', 403, 'forbidden'],
    ['200 instead of 101', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 200, 'ok'],
    ['302', 'HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n', 302, ''],
    ['400 chunked', 'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n', 400, '3\r\nbad\r\n0\r\n\r\n'],
  ])('relays a refusal (%s) and closes the connection', async (_name, answer, status, body) => {
    behaviour = ({ socket }) => {
      socket.write(answer);
      // A body without a length (and a chunked one, relayed as is) ends when the gateway closes.
      if (status === 403 || status === 400) setTimeout(() => socket.end(), 50);
    };
    const { received, closed } = await exchange(UPGRADE);
    const [head, ...rest] = received.toString('latin1').split('\r\n\r\n');
    expect(statusOf(received)).toBe(status);
    expect(head!.toLowerCase()).toContain('connection: close');
    expect(rest.join('\r\n\r\n')).toBe(body);
    expect(closed).toBe(true);
    await sides[0]!.closed;
  });

  it('an upgrade pipelined behind a request still waiting for its answer ends the connection: nothing overtakes that answer, nothing lands in a tunnel', async () => {
    behaviour = async ({ socket }) => {
      await sleep(500);
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSLOW!');
    };
    const { received, closed } = await exchange(`GET /slow HTTP/1.1\r\nHost: app.example\r\n\r\n${UPGRADE}`, 2_000);
    expect(closed).toBe(true);
    expect(received.toString('latin1')).not.toContain('101');
    expect(sides.filter((side) => side.head.startsWith('GET /ws'))).toEqual([]);
  });

  it('a client that leaves mid-handshake takes the gateway socket with it', async () => {
    behaviour = () => undefined; // never answers
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.write(UPGRADE);
    expect(await pollUntil(async () => sides.length === 1, 2_000)).toBe(true);
    client.destroy();
    await Promise.race([sides[0]!.closed, sleep(3_000).then(() => Promise.reject(new Error('the gateway socket outlived the client')))]);
  });

  it('a client that half-closes mid-handshake is gone too, and so is the gateway socket', async () => {
    behaviour = () => undefined;
    const { received, closed } = await exchange(UPGRADE, 3_000, async (client) => {
      expect(await pollUntil(async () => sides.length === 1, 2_000)).toBe(true);
      client.end();
    });
    expect(received.length).toBe(0);
    expect(closed).toBe(true);
    await sides[0]!.closed;
  });

  it('a client that floods frames before the 101 is cut, and so is the gateway socket', async () => {
    behaviour = () => undefined;
    const { closed } = await exchange(UPGRADE, 3_000, async (client) => {
      expect(await pollUntil(async () => sides.length === 1, 2_000)).toBe(true);
      client.write(Buffer.alloc(100 * 1024));
    });
    expect(closed).toBe(true);
    await sides[0]!.closed;
  });

  it('a client without one Sec-WebSocket-Key cannot be switched: a 101 for it is refused', async () => {
    behaviour = ({ socket }) => void socket.write(GOOD_101);
    const twoKeys = UPGRADE.replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`);
    const { received, closed } = await exchange(twoKeys);
    expect(statusOf(received)).toBe(502);
    expect(closed).toBe(true);
  });
});
