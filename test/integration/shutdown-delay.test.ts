import { afterEach, describe, expect, it } from 'vitest';
import { pollInBackground, type ProbeResult } from '../helpers/http-probe.js';
import { pollUntil } from '../helpers/proc.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

const DELAY_MS = 2_000;

/**
 * Issue 13, Kubernetes endpoint propagation: traffic keeps arriving for a while after SIGTERM. During
 * SUPERVISOR_SHUTDOWN_DELAY_MS every new connection is served and /readyz already says 503; after
 * it, the drain turns new requests away (503, then a closed listener) in that order.
 */
describe('shutdown delay', () => {
  it(`serves every new connection for ${DELAY_MS} ms after SIGTERM with /readyz 503 at once, then 503s, then closes`, async () => {
    sup = await startSupervisor({ env: { SUPERVISOR_SHUTDOWN_DELAY_MS: String(DELAY_MS), SUPERVISOR_DRAIN_TIMEOUT_MS: '7000', SUPERVISOR_STOP_TIMEOUT_MS: '2000' } });
    await sup.waitFor('gateway.ready');
    // New connection for every request (no keep-alive): a refused connect shows up as such.
    const traffic = pollInBackground(sup.url('/anything'), 10);
    const readiness = pollInBackground(sup.url('/readyz'), 10);
    // Both pollers under way (a few answers each) before the signal.
    expect(await pollUntil(() => traffic.count() >= 3 && readiness.count() >= 3, 10_000)).toBe(true);
    const signalledAt = Date.now();
    sup.signal('SIGTERM');
    const exit = await sup.exited;
    const [served, ready] = await Promise.all([traffic.stop(), readiness.stop()]);
    expect(exit.code).toBe(0);

    const delayEndsAt = signalledAt + DELAY_MS;
    // Probes started well inside the delay (a margin for the signal's delivery at the start).
    const during = (results: ProbeResult[]): ProbeResult[] => results.filter((r) => r.startedAt >= signalledAt + 100 && r.startedAt < delayEndsAt - 100);
    const inDelay = during(served);
    // Enough probes to mean something even on a loaded 2-core machine (a new connection each).
    expect(inDelay.length).toBeGreaterThanOrEqual(5);
    expect(inDelay.filter((r) => !r.ok), 'refused or failed connections during the delay').toEqual([]);
    expect(new Set(inDelay.map((r) => (r.ok ? r.status : 0)))).toEqual(new Set([200]));
    expect(during(ready).length).toBeGreaterThanOrEqual(5);
    expect(new Set(during(ready).map((r) => (r.ok ? r.status : r.error)))).toEqual(new Set([503]));

    // After the delay: answers turn into 503 (draining), and once the listener is closed, refusals;
    // never a 200 after a refusal, never a 200 long after the delay.
    const after = served.filter((r) => r.startedAt >= delayEndsAt + 100);
    expect(after.every((r) => (r.ok ? r.status === 503 : r.error === 'ECONNREFUSED' || r.error === 'ECONNRESET'))).toBe(true);
    const firstRefused = served.findIndex((r) => !r.ok);
    if (firstRefused !== -1) expect(served.slice(firstRefused).some((r) => r.ok && r.status === 200)).toBe(false);

    expect(sup.events('supervisor.shutdown_delay')).toEqual([expect.objectContaining({ delayMs: DELAY_MS })]);
    expect(sup.events('supervisor.drain_finished')).toEqual([expect.objectContaining({ deadlineHit: false })]);
  });

  it('defaults to 5 s on Kubernetes (KUBERNETES_SERVICE_HOST), with a 28 s drain; 0 elsewhere', async () => {
    sup = await startSupervisor({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } });
    expect(await sup.waitFor('supervisor.starting')).toMatchObject({ shutdownDelayMs: 5_000, drainTimeoutMs: 28_000, drainTimeoutSource: 'kubernetes', stopTimeoutMs: 5_000 });
    await sup.kill();
    sup = await startSupervisor();
    expect(await sup.waitFor('supervisor.starting')).toMatchObject({ shutdownDelayMs: 0, drainTimeoutMs: 8_000 });
  });
});
