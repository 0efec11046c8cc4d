import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/ops/alert-policy.js';
import { AlertWebhook } from '../../src/ops/alert-webhook.js';

interface Receiver {
  readonly url: string;
  readonly bodies: unknown[];
  readonly times: number[];
  close(): Promise<void>;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local incoming-webhook receiver on loopback; `answer` decides per request (by its index). */
async function receiver(answer: (index: number, res: http.ServerResponse) => void): Promise<Receiver> {
  const bodies: unknown[] = [];
  const times: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      times.push(Date.now());
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      answer(bodies.length - 1, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/services/T0/B0/sEcReT`, bodies, times, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function capturingLogger(): { logger: pino.Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}

const PAYLOAD: AlertPayload = {
  text: 'crash loop',
  content: 'crash loop',
  kind: 'crash_loop',
  severity: 'critical',
  summary: 'crash loop',
  at: '2026-01-01T00:00:00.000Z',
  service: 's',
  instance: 'i',
  version: '0',
  platform: 'local',
  gateway: { state: 'failed', restarts: 2, lastExit: null },
  facts: { failures: 3 },
};

// Attempts that are answered get a generous timeout (the first fetch of a process loads undici);
// a receiver that never answers gets a short one.
const FAST = { attemptTimeoutMs: 3_000, minRetryDelayMs: 50 };
const HANG = { attemptTimeoutMs: 300, minRetryDelayMs: 50 };

describe('AlertWebhook', () => {
  it('POSTs the payload as JSON once when the receiver answers 200', async () => {
    const rx = await receiver((_i, res) => res.end('ok'));
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, ...FAST });
    hook.send(PAYLOAD);
    expect(await hook.flush(2_000)).toEqual({ delivered: 1, failed: 0, abandoned: 0 });
    expect(rx.bodies).toEqual([PAYLOAD]);
    const sent = records.find((r) => r['event'] === 'ops.alert_sent');
    expect(sent).toMatchObject({ kind: 'crash_loop', status: 200, attempts: 1, webhookHost: new URL(rx.url).host });
    // The URL's secret path is never logged.
    expect(JSON.stringify(records)).not.toContain('sEcReT');
  });

  it('retries a receiver that answers 500, three attempts in all, then gives up and says so', async () => {
    const rx = await receiver((_i, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, ...FAST });
    const started = Date.now();
    hook.send(PAYLOAD);
    expect(await hook.flush(5_000)).toEqual({ delivered: 0, failed: 1, abandoned: 0 });
    expect(rx.bodies).toHaveLength(3);
    // Backoff between attempts: 50-100 ms, then 100-200 ms.
    expect(rx.times[1]! - rx.times[0]!).toBeGreaterThanOrEqual(45);
    expect(rx.times[2]! - rx.times[1]!).toBeGreaterThanOrEqual(95);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(records.find((r) => r['event'] === 'ops.alert_failed')).toMatchObject({ kind: 'crash_loop', attempts: 3, reason: 'HTTP 500' });
  });

  it('recovers when a 500 is followed by a 200', async () => {
    const rx = await receiver((i, res) => {
      res.statusCode = i === 0 ? 503 : 204;
      res.end();
    });
    const hook = new AlertWebhook({ url: rx.url, logger: capturingLogger().logger, ...FAST });
    hook.send(PAYLOAD);
    expect(await hook.flush(5_000)).toEqual({ delivered: 1, failed: 0, abandoned: 0 });
    expect(rx.bodies).toHaveLength(2);
  });

  it('does not retry a 404 (a wrong URL stays wrong)', async () => {
    const rx = await receiver((_i, res) => {
      res.statusCode = 404;
      res.end();
    });
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, ...FAST });
    hook.send(PAYLOAD);
    expect(await hook.flush(5_000)).toEqual({ delivered: 0, failed: 1, abandoned: 0 });
    expect(rx.bodies).toHaveLength(1);
    expect(records.find((r) => r['event'] === 'ops.alert_failed')).toMatchObject({ attempts: 1, reason: 'HTTP 404' });
  });

  it('bounds each attempt against a receiver that never answers: three timed-out attempts', async () => {
    const rx = await receiver(() => undefined); // reads the request, never answers
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, ...HANG });
    const started = Date.now();
    hook.send(PAYLOAD);
    expect(await hook.flush(10_000)).toEqual({ delivered: 0, failed: 1, abandoned: 0 });
    const elapsed = Date.now() - started;
    expect(rx.bodies).toHaveLength(3);
    // 3 × 300 ms timeouts + 50-100 + 100-200 ms of backoff, plus scheduling slack.
    expect(elapsed).toBeGreaterThanOrEqual(3 * 300 + 150 - 20);
    expect(elapsed).toBeLessThan(3 * 300 + 300 + 700);
    expect(records.find((r) => r['event'] === 'ops.alert_failed')).toMatchObject({ attempts: 3, reason: 'no answer within the attempt timeout' });
  });

  it('flush(bound) returns within the bound from a hanging receiver and abandons the alert', async () => {
    const rx = await receiver(() => undefined);
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, attemptTimeoutMs: 5_000, minRetryDelayMs: 500 });
    hook.send(PAYLOAD);
    const started = Date.now();
    expect(await hook.flush(250)).toEqual({ delivered: 0, failed: 0, abandoned: 1 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(450);
    // The abandoned delivery ends at once (no retry after the abort) and says why.
    await expect.poll(() => records.find((r) => r['event'] === 'ops.alert_failed')).toMatchObject({ reason: 'abandoned at exit' });
    expect(rx.bodies).toHaveLength(1);
  });

  it('flush with nothing pending returns at once', async () => {
    const hook = new AlertWebhook({ url: 'http://127.0.0.1:9/x', logger: capturingLogger().logger });
    const started = Date.now();
    expect(await hook.flush(5_000)).toEqual({ delivered: 0, failed: 0, abandoned: 0 });
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('a refused connection is retried and reported, within the bound', async () => {
    const rx = await receiver((_i, res) => res.end());
    await rx.close();
    const { logger, records } = capturingLogger();
    const hook = new AlertWebhook({ url: rx.url, logger, ...FAST });
    hook.send(PAYLOAD);
    expect(await hook.flush(3_000)).toEqual({ delivered: 0, failed: 1, abandoned: 0 });
    expect(records.find((r) => r['event'] === 'ops.alert_failed')).toMatchObject({ attempts: 3, reason: 'ECONNREFUSED' });
  });
});
