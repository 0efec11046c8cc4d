import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from '../helpers/front-door-clients.js';
import { connectParams } from '../helpers/gateway-client.mjs';
import { chunked, encode, mustRefuse, type Attempt } from '../helpers/framing.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const RAW_EXCHANGE = join(ROOT, 'test', 'helpers', 'raw-exchange.mjs');

/**
 * Issue 10 against the real gateway: the request-smuggling attacks that once gave a remote client
 * admin scopes, the local-only /ready details or another client's credentials, sent from a network
 * namespace (a remote address) and from loopback through the supervisor.
 */
describe('request smuggling through the front door, real gateway', () => {
  let ns: Netns;
  let sup: RunningSupervisor;

  beforeAll(async () => {
    ns = createNetns();
    sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000' } });
    await sup.waitFor('gateway.ready', undefined, 120_000);
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
    ns?.destroy();
  });

  /** Raw bytes from the namespace (a remote client); everything the front door sent back. */
  const fromRemote = (first: Buffer, then?: Buffer, waitMs = 3_000): { received: string; closed: boolean } => {
    const argv = ns.exec([process.execPath, RAW_EXCHANGE, ns.hostAddress, String(sup.port), first.toString('base64'), then?.toString('base64') ?? '', String(waitMs)]);
    return JSON.parse(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 })) as { received: string; closed: boolean };
  };
  const statusLines = (received: string): string[] => received.match(/HTTP\/1\.1 \d{3}[^\r]*/g) ?? [];
  const host = (): string => `${ns.hostAddress}:${sup.port}`;

  function upgradeRequest(): string {
    const key = randomBytes(16).toString('base64');
    return `GET / HTTP/1.1\r\nHost: 127.0.0.1:${sup.gatewayPort}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
  }

  /** A masked text frame carrying the gateway's `connect` request with the real token and admin scopes. */
  function connectFrame(): Buffer {
    const payload = Buffer.from(JSON.stringify({ type: 'req', id: 'smuggled', method: 'connect', params: connectParams(sup.token) }));
    const mask = randomBytes(4);
    const head = Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    return Buffer.concat([head, mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))]);
  }

  it.each(['Content-Length', 'chunked'])('a remote client smuggling a WebSocket upgrade in a GET body (%s) gets one HTTP answer: no 101, no hello, no scopes', (framing) => {
    const inner = Buffer.from(upgradeRequest());
    const framed = framing === 'chunked' ? `Transfer-Encoding: chunked\r\n\r\n${chunked(inner).toString('latin1')}` : `Content-Length: ${inner.length}\r\n\r\n${inner.toString('latin1')}`;
    const outcome = fromRemote(Buffer.from(`GET / HTTP/1.1\r\nHost: ${host()}\r\n${framed}`, 'latin1'), connectFrame());
    expect(statusLines(outcome.received)).toHaveLength(1);
    expect(outcome.received).not.toMatch(/HTTP\/1\.1 101/);
    expect(outcome.received).not.toContain('hello-ok');
    expect(outcome.received).not.toContain('operator.admin');
    expect(outcome.received).not.toContain('connect.challenge');
  });

  it('a remote client naming Content-Length in Connection is refused with 400 before anything reaches the gateway', () => {
    const inner = Buffer.from(upgradeRequest());
    const outcome = fromRemote(Buffer.from(`GET / HTTP/1.1\r\nHost: ${host()}\r\nConnection: keep-alive, Content-Length\r\nContent-Length: ${inner.length}\r\n\r\n${inner.toString('latin1')}`, 'latin1'), connectFrame());
    expect(statusLines(outcome.received)).toEqual([expect.stringMatching(/^HTTP\/1\.1 400/)]);
    expect(outcome.closed).toBe(true);
    expect(outcome.received).not.toContain('connect.challenge');
  });

  it("a remote client smuggling GET /ready never sees the gateway's local-only details", () => {
    const inner = `GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
      for (const framing of [`Content-Length: ${inner.length}\r\n\r\n${inner}`, `Transfer-Encoding: chunked\r\n\r\n${chunked(Buffer.from(inner)).toString('latin1')}`]) {
        const outcome = fromRemote(Buffer.from(`${method} /health HTTP/1.1\r\nHost: ${host()}\r\n${framing}`, 'latin1'), undefined, 1_000);
        expect(statusLines(outcome.received), method).toHaveLength(1);
        expect(outcome.received, method).not.toContain('uptimeMs');
        expect(outcome.received, method).not.toContain('"failing"');
      }
    }
  });

  it("a half-sent smuggled request cannot take over the next client's request", async () => {
    // A complete request whose body is the start of another one: sent raw on a pooled socket (the
    // old bug), the next client's request would complete the attacker's, with its credentials.
    const partial = 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Ignore: ';
    const attack = fromRemote(Buffer.concat([Buffer.from(`GET /health HTTP/1.1\r\nHost: ${host()}\r\nTransfer-Encoding: chunked\r\n\r\n`), chunked(Buffer.from(partial))]), undefined, 500);
    expect(statusLines(attack.received)).toHaveLength(1);
    // The victim, local, with credentials: its answer is its own /health, not the attacker's /ready.
    for (let i = 0; i < 5; i++) {
      const victim = await RawConnection.open(sup.port);
      try {
        victim.write(`GET /health HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${sup.token}\r\n\r\n`);
        const response = await victim.readResponse();
        expect(response.status).toBe(200);
        expect(JSON.parse(response.body)).toMatchObject({ ok: true, status: 'live' });
      } finally {
        victim.destroy();
      }
    }
  });

  it('every ambiguous framing class is refused with 400 and close; the front door keeps serving', async () => {
    const body = Buffer.from('{"a":1}');
    const classes: Array<Array<[string, string]>> = [
      [['Content-Length', '7'], ['Transfer-Encoding', 'chunked']],
      [['Content-Length', '7'], ['Content-Length', '7']],
      [['Content-Length', '7'], ['Content-Length', '8']],
      [['Transfer-Encoding', 'gzip, chunked']],
      [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']],
      [['Connection', 'Transfer-Encoding'], ['Transfer-Encoding', 'chunked']],
      [['Connection', 'X-Forwarded-For'], ['Content-Length', '7']],
    ];
    for (const headers of classes) {
      const attempt: Attempt = { method: 'POST', target: '/v1/chat/completions', version: '1.1', headers: [['Host', 'localhost'], ...headers], wireBody: body, body };
      expect(mustRefuse(attempt)).not.toBeNull();
      const connection = await RawConnection.open(sup.port);
      try {
        connection.write(encode(attempt));
        expect((await connection.readResponse()).status, JSON.stringify(headers)).toBe(400);
        expect(await connection.closedWithin(2_000)).toBe(true);
      } finally {
        connection.destroy();
      }
    }
    const after = await fetch(sup.url('/health'));
    expect(after.status).toBe(200);
  });

  it('keeps the digest of a body forwarded on a GET intact (one request, body re-framed)', async () => {
    // The gateway answers GET /health whatever the body; what matters is one answer per request
    // on a keep-alive connection, in order, with nothing left over.
    const connection = await RawConnection.open(sup.port);
    try {
      const inner = Buffer.from('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      connection.write(Buffer.concat([encode({ method: 'GET', target: '/health', version: '1.1', headers: [['Host', 'localhost'], ['Transfer-Encoding', 'chunked']], wireBody: chunked(inner, 7), body: inner }), Buffer.from('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')]));
      const first = await connection.readResponse();
      const second = await connection.readResponse();
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(createHash('sha256').update(first.body).digest('hex')).toBe(createHash('sha256').update(second.body).digest('hex'));
      expect(await connection.closedWithin(300)).toBe(false);
    } finally {
      connection.destroy();
    }
  });
});
