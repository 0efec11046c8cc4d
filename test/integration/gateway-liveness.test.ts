import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { pollUntil } from '../helpers/proc.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

// Issue 19 with the fake gateway (fast; test/e2e/gateway-liveness.test.ts does it with the real one):
// a frozen gateway turns /readyz 503, is killed and replaced; the metric and the alert follow.
const running: RunningSupervisor[] = [];
const stopped = new Set<number>();
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const pid of stopped) {
    try {
      process.kill(-pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  stopped.clear();
  await Promise.all(running.splice(0).map((s) => s.kill()));
  for (const receiver of receivers.splice(0)) receiver.close();
});

const status = async (url: string): Promise<number> => (await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status ?? 0;

describe('liveness of the ready gateway (fake gateway)', () => {
  it('SIGSTOP: /readyz 503 at the first failed probe, one gateway.unresponsive, SIGKILL, a replacement, the metric and the alert', async () => {
    const metricsPort = await freePort();
    const hook = await webhookReceiver();
    receivers.push(hook);
    const sup = await startSupervisor({
      env: {
        SUPERVISOR_LIVENESS_INTERVAL_MS: '200',
        SUPERVISOR_LIVENESS_TIMEOUT_MS: '500',
        SUPERVISOR_LIVENESS_FAILURES: '3',
        SUPERVISOR_METRICS_PORT: String(metricsPort),
        SUPERVISOR_METRICS_HOST: '127.0.0.1',
        SUPERVISOR_ALERT_WEBHOOK: hook.url,
      },
    });
    running.push(sup);
    const ready = await sup.waitFor('gateway.ready');
    const pid = ready['gatewayPid'] as number;
    expect(await status(sup.url('/readyz'))).toBe(200);

    stopped.add(pid);
    process.kill(-pid, 'SIGSTOP');
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 503, 3_000, 50)).toBe(true);
    const body = (await (await fetch(sup.url('/readyz'))).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ state: 'unresponsive', gateway: 'ready' });
    expect(sup.events('gateway.liveness_failing')).toHaveLength(1);

    const record = await sup.waitFor('gateway.unresponsive', undefined, 10_000);
    expect(record).toMatchObject({ gatewayPid: pid, probe: 'GET /healthz', failures: 3, lastError: 'timeout', timeoutMs: 500, intervalMs: 200 });
    expect(await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pid)).toMatchObject({ signal: 'SIGKILL', outcome: 'unresponsive' });
    stopped.delete(pid);
    await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] !== pid, 10_000);
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 200, 3_000, 50)).toBe(true);
    expect(sup.events('gateway.unresponsive')).toHaveLength(1);

    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scrape).toContain('openclaw_supervisor_gateway_unresponsive_kills_total 1');
    expect(scrape).toContain('openclaw_supervisor_gateway_restarts_total{cause="unresponsive"} 1');
    expect(await pollUntil(() => hook.bodies.some((b) => b['kind'] === 'unresponsive'), 5_000)).toBe(true);
    expect(hook.bodies.find((b) => b['kind'] === 'unresponsive')).toMatchObject({ severity: 'critical', facts: { failures: 3 } });
  }, 30_000);
});
