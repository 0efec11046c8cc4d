import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, delay, within } from '../helpers/front-door-clients.js';
import { probe } from '../helpers/http-probe.js';
import { isRunning } from '../helpers/proc.js';
import { pidOf } from '../helpers/records.js';
import { TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { scenario, type Figures } from './helpers/figures.js';

/**
 * One supervisor takes every hostile input of this file, in turn: after each group it must still
 * answer /healthz, with the same gateway (same pid, no gateway.exited). The gateway prints the
 * token (FAKE_PRINT_TOKEN=1): no answer and no log line may carry it.
 */
let sup: RunningSupervisor;
let gatewayPid: number;
const answers: string[] = [];

/** Slow-header (slowloris) connections, opened first so that they age while the other inputs run. */
const SLOWLORIS_CONNECTIONS = 20;
const HEADERS_TIMEOUT_MS = 15_000;
let slowloris: Array<{ closedAt: Promise<number>; bytesSent: () => number; received: () => string }> = [];
let slowlorisStartedAt = 0;
let stopTrickle = false;

beforeAll(async () => {
  sup = await startSupervisor({ env: { FAKE_PRINT_TOKEN: '1' } });
  gatewayPid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
  slowlorisStartedAt = Date.now();
  slowloris = await Promise.all(Array.from({ length: SLOWLORIS_CONNECTIONS }, (_, i) => trickle(i)));
});

afterAll(async () => {
  stopTrickle = true;
  // Unset when beforeAll failed before the start.
  const started = sup as RunningSupervisor | undefined;
  if (started === undefined) return;
  await started.kill();
  expect(started.output.filter((line) => line.includes(TEST_TOKEN))).toEqual([]);
});

/** Opens a connection that sends a request head one byte per second (bounded: 40 bytes at most). */
async function trickle(i: number): Promise<{ closedAt: Promise<number>; bytesSent: () => number; received: () => string }> {
  const connection = await RawConnection.open(sup.port);
  let received = '';
  connection.socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const head = `GET /slow-${i} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(40)}`;
  let sent = 0;
  const closedAt = connection.closed.then(() => Date.now());
  void (async () => {
    for (let n = 0; n < 40 && !connection.isClosed && !stopTrickle; n++) {
      connection.socket.write(head[sent++] ?? 'a');
      await delay(1_000);
    }
    connection.destroy();
  })();
  return { closedAt, bytesSent: () => sent, received: () => received };
}

interface Outcome {
  readonly status: number | null;
  readonly closed: boolean;
  readonly raw: string;
}

/** Sends raw bytes on a fresh connection; the first response (if any) and whether the server closed. */
async function send(request: string | Buffer, options: { host?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  const connection = await RawConnection.open(sup.port, options.host ?? '127.0.0.1');
  let raw = '';
  connection.socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
  try {
    connection.socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
    let status: number | null = null;
    try {
      status = (await connection.readResponse(options.timeoutMs ?? 5_000)).status;
    } catch {
      // closed without a (complete) answer, or nothing at all: judged by `closed` below
    }
    const closed = await connection.closedWithin(3_000);
    answers.push(raw);
    return { status, closed, raw };
  } finally {
    connection.destroy();
  }
}

/** Rejected: a 4xx answer or a close, and in any case the connection ends. */
function expectRejected(name: string, outcome: Outcome): void {
  const verdict = { name, status: outcome.status, closed: outcome.closed, raw: outcome.raw.slice(0, 160) };
  expect(verdict.status === null || (verdict.status >= 400 && verdict.status < 500), JSON.stringify(verdict)).toBe(true);
  expect(verdict.closed, JSON.stringify(verdict)).toBe(true);
}

/** Still up, same gateway, nothing logged against the gateway. */
async function expectUnharmed(fig: Figures): Promise<void> {
  const health = await probe(sup.url('/healthz'), 5_000);
  expect(health).toMatchObject({ ok: true, status: 200 });
  if (health.ok) expect(health.body).not.toContain(TEST_TOKEN);
  const ready = await probe(sup.url('/readyz'), 5_000);
  expect(ready).toMatchObject({ ok: true, status: 200 });
  if (ready.ok) expect(ready.body).not.toContain(TEST_TOKEN);
  expect(isRunning(gatewayPid)).toBe(true);
  expect(sup.events('gateway.exited')).toEqual([]);
  expect(sup.events('gateway.spawned').map(pidOf)).toEqual([gatewayPid]);
  expect(sup.process.exitCode).toBeNull();
  fig.set('healthzAfterwards', health.ok ? health.status : null);
}

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

async function rejectAll(fig: Figures, cases: Record<string, string | Buffer>): Promise<Record<string, number | string>> {
  const seen: Record<string, number | string> = {};
  for (const [name, request] of Object.entries(cases)) {
    const outcome = await send(request);
    seen[name] = outcome.status ?? 'closed';
    expectRejected(name, outcome);
  }
  fig.inputs(Object.keys(cases).length);
  return seen;
}

describe('hostile input on the public port', () => {
  it('malformed request lines: 400 or a close, the supervisor unharmed', async () => {
    const fig = scenario('hostile.malformed-request-line', 'hostile');
    const seen = await rejectAll(fig, {
      garbage: 'GARBAGE\r\n\r\n',
      unknownVersion: 'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      binary: Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a]),
      extraSpaces: 'GET / / HTTP/1.1\r\nHost: x\r\n\r\n',
      tabInTarget: 'GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n',
      controlInTarget: 'GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n',
      absoluteForm: 'GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n',
      asteriskForm: 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
      unknownMethod: 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n',
      tlsHello: Buffer.from('160301012c010001280303', 'hex'),
    });
    fig.set('answers', seen);
    await expectUnharmed(fig);
  });

  it('huge headers, many headers, a huge target: 431 or a close', async () => {
    const fig = scenario('hostile.huge-headers', 'hostile');
    const seen = await rejectAll(fig, {
      header100k: `GET /headers HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
      headers3000: `GET /headers HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
      target100k: `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      cookie1M: `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'c=1; '.repeat(200_000)}\r\n\r\n`,
    });
    fig.set('answers', seen);
    for (const status of Object.values(seen)) expect([431, 'closed']).toContain(status);
    await expectUnharmed(fig);
  });

  it('header injection and smuggling attempts (bare CR/LF, folding, NUL, CL+TE, double CL): 400 or a close; encoded CR/LF never becomes a header', async () => {
    const fig = scenario('hostile.header-injection', 'hostile');
    const seen = await rejectAll(fig, {
      bareLf: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-A: a\nX-Injected: yes\r\n\r\n',
      bareCr: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: yes\r\n\r\n',
      obsFold: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-A: a\r\n X-Forwarded-For: 6.6.6.6\r\n\r\n',
      nulInValue: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n',
      ctlInValue: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n',
      spaceBeforeColon: 'GET /headers HTTP/1.1\r\nHost: x\r\nX-Forwarded-For : 6.6.6.6\r\n\r\n',
      clAndTe: 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      doubleCl: 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      teNotChunkedLast: 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
      noHost: 'GET /headers HTTP/1.1\r\n\r\n',
    });
    // Percent-encoded CR/LF stays in the target: the gateway sees no extra header.
    const encoded = await send('GET /headers?x=%0d%0aX-Injected:%20yes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(encoded.status).toBe(200);
    const body = JSON.parse(encoded.raw.slice(encoded.raw.indexOf('{'), encoded.raw.lastIndexOf('}') + 1)) as { headers: Record<string, string> };
    expect(Object.keys(body.headers)).not.toContain('x-injected');
    fig.inputs(1);
    // Nothing was smuggled through to the gateway as a second request.
    expect(sup.output.some((line) => line.includes('/smuggled'))).toBe(false);
    fig.set('answers', seen);
    await expectUnharmed(fig);
  });

  it('upgrades: oversized (431 or close), to anything but websocket (400), to the health paths or with dot segments (400)', async () => {
    const fig = scenario('hostile.upgrades', 'hostile');
    const seen = await rejectAll(fig, {
      oversized: `GET / HTTP/1.1\r\nHost: x\r\n${UPGRADE}X-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
      oversizedProtocolList: `GET / HTTP/1.1\r\nHost: x\r\n${UPGRADE}Sec-WebSocket-Protocol: ${Array.from({ length: 5_000 }, (_, i) => `p${i}`).join(', ')}\r\n\r\n`,
      h2c: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      websocketAndMore: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket, foo\r\nConnection: Upgrade\r\n\r\n',
      tlsUpgrade: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n',
      toHealthz: `GET /healthz HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`,
      toReadyz: `GET /readyz HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`,
      dotSegments: `GET /x/../ HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`,
    });
    for (const name of ['h2c', 'websocketAndMore', 'tlsUpgrade', 'toHealthz', 'toReadyz', 'dotSegments']) expect(seen[name]).toBe(400);
    for (const name of ['oversized', 'oversizedProtocolList']) expect([431, 'closed']).toContain(seen[name]);
    fig.set('answers', seen);
    await expectUnharmed(fig);
  });

  it('dot segments around the health paths (raw, percent-encoded, backslashed, before a fragment): 400, never forwarded', async () => {
    const fig = scenario('hostile.path-traversal', 'hostile');
    const targets = [
      '/healthz/../x',
      '/%2e%2e/healthz',
      '/readyz/..',
      '/./healthz',
      '/x/.%2e/healthz',
      '/%2E%2E%2Fhealthz',
      '/healthz/..%2f',
      '/readyz/%2e',
      '/x/../readyz?probe=1',
      // The gateway parses targets with WHATWG URL, for which `\` is `/` and `#` ends the path.
      '/healthz\\..\\x',
      '/x\\..\\readyz',
      '/readyz/..#frag',
    ];
    const seen: Record<string, number | string> = {};
    for (const target of targets) {
      const outcome = await send(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      seen[target] = outcome.status ?? 'closed';
      expectRejected(target, outcome);
      expect(outcome.status, target).toBe(400);
    }
    fig.inputs(targets.length);
    fig.set('answers', seen);
    // None of them reached the gateway (its catch-all route echoes the target).
    expect(answers.filter((raw) => raw.includes('fake gateway'))).toEqual([]);
    await expectUnharmed(fig);
  });

  it('forwarding headers from a loopback peer (a proxy on this host): the gateway sees the one client named, never a local one; naming nobody is refused', async () => {
    const fig = scenario('hostile.spoofed-forwarding', 'hostile');
    const spoof = 'X-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Port: 1\r\n';
    const variants: Array<{ name: string; host: string; request: string }> = [
      { name: 'ipv4', host: '127.0.0.1', request: `GET /headers HTTP/1.1\r\nHost: x\r\n${spoof}Connection: close\r\n\r\n` },
    ];
    // Naming them in Connection (hop-by-hop abuse) is refused outright (issue 10): 400, never forwarded.
    const hopByHop = await send(`GET /headers HTTP/1.1\r\nHost: x\r\n${spoof}Connection: close, X-Forwarded-For, X-Real-IP\r\n\r\n`, { host: '127.0.0.1' });
    expect(hopByHop.status).toBe(400);
    expect(hopByHop.raw).not.toContain('fake gateway');
    const listening = sup.events('supervisor.listening')[0]!;
    if (listening['address'] === '::') variants.push({ name: 'ipv6', host: '::1', request: `GET /headers HTTP/1.1\r\nHost: x\r\n${spoof}Connection: close\r\n\r\n` });
    for (const variant of variants) {
      const outcome = await send(variant.request, { host: variant.host });
      expect(outcome.status, variant.name).toBe(200);
      const seenByGateway = JSON.parse(outcome.raw.slice(outcome.raw.indexOf('{'), outcome.raw.lastIndexOf('}') + 1)) as { headers: Record<string, string> };
      const forwarding = Object.fromEntries(Object.entries(seenByGateway.headers).filter(([name]) => /^x-forwarded-|^x-real-ip$|^forwarded$/.test(name)));
      expect(forwarding, variant.name).toEqual({ 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' });
      expect(seenByGateway.headers['host']).toBe('x');
    }
    // Speaking for someone without naming them (loopback only, X-Real-IP alone): 403, never forwarded.
    for (const claim of ['X-Forwarded-For: 127.0.0.1', 'X-Real-IP: 6.6.6.6', 'X-Forwarded-For: 6.6.6.6, not-an-address']) {
      const refused = await send(`GET /headers HTTP/1.1\r\nHost: x\r\n${claim}\r\nConnection: close\r\n\r\n`, { host: '127.0.0.1' });
      expect(refused.status, claim).toBe(403);
      expect(refused.raw).not.toContain('fake gateway');
    }
    fig.inputs(variants.length + 3);
    fig.set('variants', variants.map((v) => v.name));
    // A proxy on this host is handled, not noise: no "replaced" record for it.
    expect(sup.events('front_door.forwarded_headers_replaced')).toEqual([]);
    await expectUnharmed(fig);
  });

  it('a WebSocket client that sends garbage frames after the handshake: the session ends, nothing else does', async () => {
    const fig = scenario('hostile.websocket-garbage-frames', 'hostile');
    const connection = await RawConnection.open(sup.port);
    let raw = '';
    connection.socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
    connection.write(`GET / HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`);
    const switched = await within(
      (async () => {
        for (let i = 0; i < 200 && !raw.includes('\r\n\r\n'); i++) await delay(25);
        return raw;
      })(),
      10_000,
      'upgrade answer',
    );
    expect(switched.startsWith('HTTP/1.1 101')).toBe(true);
    // An unmasked frame with a reserved opcode and a bogus 64-bit length, then noise.
    connection.socket.write(Buffer.concat([Buffer.from([0x8b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(4_096, 0xaa)]));
    expect(await connection.closedWithin(10_000)).toBe(true);
    connection.destroy();
    fig.inputs(1);
    await expectUnharmed(fig);
  });

  it(`slowloris: ${SLOWLORIS_CONNECTIONS} connections trickling a request head are closed by the 15 s headers timeout, while /healthz keeps answering`, async () => {
    const fig = scenario('hostile.slowloris', 'hostile');
    fig.inputs(SLOWLORIS_CONNECTIONS);
    // They are still trickling: the checks above ran in their shadow. /healthz now, too.
    const during = await probe(sup.url('/healthz'), 5_000);
    expect(during).toMatchObject({ ok: true, status: 200 });
    const closedAt = await within(Promise.all(slowloris.map((s) => s.closedAt)), HEADERS_TIMEOUT_MS + 15_000, 'slowloris connections closed by the server');
    const afterMs = closedAt.map((at) => at - slowlorisStartedAt);
    fig.set('connections', SLOWLORIS_CONNECTIONS);
    fig.set('closedAfterMinMs', Math.min(...afterMs));
    fig.set('closedAfterMaxMs', Math.max(...afterMs));
    fig.set('bytesSentMax', Math.max(...slowloris.map((s) => s.bytesSent())));
    fig.set('answer', slowloris[0]!.received().split('\r\n')[0] || 'closed');
    // Closed by the server (the trickle sends at most 40 bytes over 40 s), around the headers timeout.
    for (const [i, s] of slowloris.entries()) expect(s.bytesSent(), `connection ${i}`).toBeLessThan(40);
    expect(Math.min(...afterMs)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1_000);
    expect(Math.max(...afterMs)).toBeLessThan(HEADERS_TIMEOUT_MS + 6_000);
    for (const s of slowloris) expect(s.received()).not.toContain('200 OK');
    // Every answer of this file, to every hostile input, is free of the token.
    expect(answers.filter((raw) => raw.includes(TEST_TOKEN))).toEqual([]);
    await expectUnharmed(fig);
  });
});
