import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openWebSocket, rawExchange, refusedUpgrade, within, type WsProbe } from '../helpers/front-door-clients.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
const sockets: WsProbe[] = [];
afterEach(async () => {
  for (const probe of sockets.splice(0)) probe.ws.terminate();
  await sup?.kill();
  sup = undefined;
});

async function ready(env: Record<string, string> = {}): Promise<RunningSupervisor> {
  sup = await startSupervisor({ env });
  await sup.waitFor('gateway.ready');
  return sup;
}

async function connect(s: RunningSupervisor, protocols: string[] = [], path = '/'): Promise<WsProbe> {
  const probe = await openWebSocket(`ws://127.0.0.1:${s.port}${path}`, protocols);
  sockets.push(probe);
  return probe;
}

describe('front door: WebSocket tunnel', () => {
  it('echoes text and binary messages, a 1 MB binary frame and answers pings', async () => {
    const s = await ready();
    const probe = await connect(s);
    probe.ws.send('hello, gateway');
    const text = await probe.next();
    expect(text.isBinary).toBe(false);
    expect(text.text).toBe('hello, gateway');

    const small = randomBytes(300);
    probe.ws.send(small);
    const binary = await probe.next();
    expect(binary.isBinary).toBe(true);
    expect(binary.data.equals(small)).toBe(true);

    const big = randomBytes(1024 * 1024);
    probe.ws.send(big);
    const echoedBig = await probe.next(15_000);
    expect(echoedBig.isBinary).toBe(true);
    expect(echoedBig.data.length).toBe(big.length);
    expect(echoedBig.data.equals(big)).toBe(true);

    const pong = new Promise<Buffer>((resolve) => probe.ws.once('pong', resolve));
    probe.ws.ping(Buffer.from('are you there'));
    expect((await within(pong, 5_000, 'pong')).toString()).toBe('are you there');
    expect(probe.errors).toEqual([]);
  });

  it('keeps 100 messages in order, both directions interleaved', async () => {
    const s = await ready();
    const probe = await connect(s);
    for (let i = 0; i < 100; i++) {
      if (i % 3 === 0) probe.ws.send(Buffer.from([i]));
      else probe.ws.send(`message ${i}`);
    }
    for (let i = 0; i < 100; i++) {
      const message = await probe.next(10_000);
      if (i % 3 === 0) {
        expect(message.isBinary).toBe(true);
        expect([...message.data]).toEqual([i]);
      } else {
        expect(message.text).toBe(`message ${i}`);
      }
    }
  });

  it('relays the subprotocol the gateway selects (chat.v2 of chat.v1, chat.v2)', async () => {
    const s = await ready();
    const probe = await connect(s, ['chat.v1', 'chat.v2'], '/ws/session?room=7');
    expect(probe.ws.protocol).toBe('chat.v2');
    const single = await connect(s, ['chat.v1']);
    expect(single.ws.protocol).toBe('chat.v1');
    const none = await connect(s);
    expect(none.ws.protocol).toBe('');
    // Without FAKE_DEFLATE the gateway declines permessage-deflate although the client offers it.
    expect(none.ws.extensions).toBe('');
  });

  it('negotiates permessage-deflate end to end when the gateway accepts it (FAKE_DEFLATE=1)', async () => {
    const s = await ready({ FAKE_DEFLATE: '1' });
    const probe = await connect(s);
    expect(probe.ws.extensions).toContain('permessage-deflate');
    // Compressed frames are relayed untouched: 1 MB of text compresses to little and still arrives whole.
    const text = 'openclaw '.repeat(120_000);
    probe.ws.send(text);
    expect((await probe.next(15_000)).text).toBe(text);
    const noise = randomBytes(200_000);
    probe.ws.send(noise);
    expect((await probe.next(15_000)).data.equals(noise)).toBe(true);
  });

  it('passes close codes through in both directions', async () => {
    const s = await ready();
    // The client closes with 4001: the gateway answers the close with the same code.
    const byClient = await connect(s);
    byClient.ws.close(4001, 'client done');
    expect((await byClient.closedWithin(5_000)).code).toBe(4001);

    // The gateway closes with 4002 when asked to.
    const byGateway = await connect(s);
    byGateway.ws.send('close:4002');
    const closed = await byGateway.closedWithin(5_000);
    expect(closed.code).toBe(4002);
    expect(closed.reason).toBe('asked to');
    expect([...byClient.errors, ...byGateway.errors]).toEqual([]);
  });

  it('refuses an upgrade to anything but websocket with 400 (Upgrade: h2c)', async () => {
    const s = await ready();
    const res = await rawExchange(
      s.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'unsupported_upgrade' });
    expect(res.serverClosed).toBe(true);

    // Upgrades of our own endpoints and of dot segments are refused too.
    for (const path of ['/healthz', '/readyz']) {
      const refused = await refusedUpgrade(`ws://127.0.0.1:${s.port}${path}`);
      expect(refused.statusCode, path).toBe(400);
      expect(JSON.parse(refused.body), path).toMatchObject({ error: 'bad_request' });
    }
    // Written raw: a WebSocket client would normalise the dot segments away.
    const traversal = await rawExchange(
      s.port,
      `GET /a/../b HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(traversal.status).toBe(400);
    expect(JSON.parse(traversal.body)).toMatchObject({ error: 'bad_request' });
    // The front door still works.
    const probe = await connect(s);
    probe.ws.send('still here');
    expect((await probe.next()).text).toBe('still here');
  });
});
