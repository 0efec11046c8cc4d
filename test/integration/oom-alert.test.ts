import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCgroup } from '../helpers/memory-cgroup.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * An OOM kill seen in the cgroup's events: the supervisor runs in a memory cgroup of its own (v1 or
 * v2, whichever this host has; root, as the tests' namespaces need anyway) with a 400 MB limit and no
 * swap, and its gateway allocates until the kernel kills it.
 */
const LIMIT = 400 * 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('alerts: OOM kill', () => {
  it('the gateway killed for memory in the container\'s cgroup produces one oom_kill alert, and the metric counts it', async () => {
    const rx = await webhookReceiver();
    cleanups.push(() => rx.close());

    const cgroup = createMemoryCgroup('ocs-oom', LIMIT, { noSwap: true });
    let s: RunningSupervisor | null = null;
    cleanups.push(async () => {
      await s?.kill();
      await cgroup.remove();
    });
    const metricsPort = await freePort();
    s = await startSupervisor({
      env: { SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1', SUPERVISOR_ALERT_WEBHOOK: rx.url, SUPERVISOR_ALERT_RESTARTS: '1000' },
      gateway: [process.execPath, join(ROOT, 'test', 'fixtures', 'oom-gateway.mjs')],
      // Into the cgroup before node starts: the supervisor and its gateway are the container.
      wrap: cgroup.wrap,
    });
    const killed = await s.waitFor('gateway.exited', (r) => r['signal'] === 'SIGKILL', 30_000);
    expect(killed['memory']).toMatchObject({ oomKill: 1 });
    await s.waitFor('ops.alert_sent', (r) => r['kind'] === 'oom_kill', 10_000);
    // The respawned gateway is ready again. That the polls which then read the same counter alert
    // nothing is test/unit/ops/attach-operations.test.ts's, on fake timers.
    await s.waitFor('gateway.ready', (r) => r['gatewayPid'] !== killed['gatewayPid']);
    expect(rx.bodies.map((b) => b['kind'])).toEqual(['oom_kill']);
    expect(rx.bodies[0]).toMatchObject({ severity: 'critical', facts: { newOomKills: 1, oomKillsTotal: 1 }, gateway: { lastExit: { signal: 'SIGKILL', reason: 'failure' } } });
    expect(String(rx.bodies[0]!['text'])).toContain('killed 1 process(es) of this container for memory');
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/^openclaw_supervisor_cgroup_oom_kills_total 1$/m);
    expect(scrape).toMatch(new RegExp(`^openclaw_supervisor_cgroup_memory_max_bytes ${LIMIT}$`, 'm'));
    expect(scrape).toMatch(/^openclaw_supervisor_gateway_restarts_total\{cause="failure"\} 1$/m);
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
