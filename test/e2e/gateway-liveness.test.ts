import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../helpers/proc.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

// Issue 19 with the real openclaw@2026.9.6: a frozen gateway (SIGSTOP: the same as a wedged event
// loop) is noticed, killed and replaced; a stall shorter than the kill bound is not. Short probe
// settings keep the test short; the bounds below follow from them (src/gateway/liveness.ts).
const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 3_000;
const FAILURES = 3;
/** First failure: the next probe starts within an interval and fails after its timeout. */
const UNREADY_BOUND_MS = INTERVAL_MS + TIMEOUT_MS + 2_000;
/** The kill: FAILURES timeouts with the pauses between them, after the first probe's start. */
const KILL_BOUND_MS = INTERVAL_MS + FAILURES * TIMEOUT_MS + (FAILURES - 1) * INTERVAL_MS + 3_000;
/** A stall that fails at most FAILURES - 1 probes: a probe pending at its end is answered then. */
const BOUNDED_STALL_MS = TIMEOUT_MS + INTERVAL_MS + 1_000;

const status = async (url: string): Promise<number> => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
};

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

describe('liveness of the real gateway', () => {
  let sup: RunningSupervisor;
  const stopped = new Set<number>();

  beforeAll(async () => {
    sup = await startSupervisor({
      gateway: null,
      env: {
        SUPERVISOR_STARTUP_TIMEOUT_MS: '150000',
        SUPERVISOR_LIVENESS_INTERVAL_MS: String(INTERVAL_MS),
        SUPERVISOR_LIVENESS_TIMEOUT_MS: String(TIMEOUT_MS),
        SUPERVISOR_LIVENESS_FAILURES: String(FAILURES),
      },
    });
    await sup.waitFor('gateway.ready', undefined, 150_000);
  }, 170_000);

  afterAll(async () => {
    // Never leave a stopped process behind, whatever failed.
    for (const pid of stopped) {
      signalQuietly(-pid, 'SIGCONT');
      signalQuietly(-pid, 'SIGKILL');
    }
    await sup?.kill();
  });

  const gatewayPid = (): number => sup.events('gateway.spawned').at(-1)!['gatewayPid'] as number;
  const stop = (pid: number): void => {
    stopped.add(pid);
    process.kill(-pid, 'SIGSTOP');
  };
  const resume = (pid: number): void => {
    process.kill(-pid, 'SIGCONT');
    stopped.delete(pid);
  };

  it('a bounded stall (shorter than the kill bound) turns /readyz 503 and back, without a kill or a restart', async () => {
    expect(await status(sup.url('/readyz'))).toBe(200);
    const pid = gatewayPid();
    stop(pid);
    const stoppedAt = Date.now();
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 503, UNREADY_BOUND_MS, 100)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, BOUNDED_STALL_MS - (Date.now() - stoppedAt))));
    resume(pid);
    await sup.waitFor('gateway.liveness_recovered', undefined, TIMEOUT_MS + INTERVAL_MS + 5_000);
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 200, 5_000, 100)).toBe(true);
    // Long enough for a kill had the stall counted one failure too many.
    await new Promise((resolve) => setTimeout(resolve, 2 * (TIMEOUT_MS + INTERVAL_MS)));
    expect(sup.events('gateway.unresponsive')).toEqual([]);
    expect(sup.events('gateway.spawned')).toHaveLength(1);
    expect(sup.events('gateway.liveness_failing')[0]).toMatchObject({ gatewayPid: pid, failures: 1, probe: 'GET /healthz' });
  }, 60_000);

  it('a frozen gateway: /readyz 503 within the bound, one record with the evidence, the group killed and replaced', async () => {
    const pid = gatewayPid();
    stop(pid);
    const stoppedAt = Date.now();
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 503, UNREADY_BOUND_MS, 100)).toBe(true);
    const record = await sup.waitFor('gateway.unresponsive', (r) => r['gatewayPid'] === pid, KILL_BOUND_MS + 2_000);
    expect(Date.now() - stoppedAt).toBeLessThan(KILL_BOUND_MS + 2_000);
    expect(record).toMatchObject({ level: 'error', probe: 'GET /healthz', failures: FAILURES, lastError: 'timeout', timeoutMs: TIMEOUT_MS, intervalMs: INTERVAL_MS });
    expect(record['unresponsiveForMs']).toBeGreaterThanOrEqual((FAILURES - 1) * (TIMEOUT_MS + INTERVAL_MS));
    // SIGKILL needs no cooperation from a stopped process: the group is gone.
    const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pid, 10_000);
    stopped.delete(pid);
    expect(exited).toMatchObject({ signal: 'SIGKILL', outcome: 'unresponsive', wasReady: true });
    expect(exited['memory']).toBeUndefined(); // our own SIGKILL, not read as the OOM killer's
    expect(await sup.waitFor('gateway.restart_scheduled', (r) => r['reason'] === 'unresponsive', 5_000)).toMatchObject({ attempt: 1 });
    // A replacement becomes ready and /readyz says 200 again.
    await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] !== pid, 150_000);
    expect(await pollUntil(async () => (await status(sup.url('/readyz'))) === 200, 5_000, 100)).toBe(true);
    expect(sup.events('gateway.unresponsive')).toHaveLength(1);
    expect(sup.process.exitCode).toBeNull();
  }, 200_000);
});
