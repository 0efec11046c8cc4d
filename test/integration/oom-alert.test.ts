import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

/**
 * An OOM kill seen in the cgroup's events: the supervisor runs in a memory cgroup of its own (v1 or
 * v2, whichever this host has; root, as the tests' namespaces need anyway) with a 400 MB limit and no
 * swap, and its gateway allocates until the kernel kills it.
 */
const LIMIT = 400 * 1024 * 1024;
const CGROUP_ROOT = '/sys/fs/cgroup';

function createMemoryCgroup(name: string): { dir: string; remove(): void } {
  const v1 = join(CGROUP_ROOT, 'memory');
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    const dir = join(v1, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(LIMIT));
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(LIMIT));
    return { dir, remove: () => rmdirSync(dir) };
  }
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) throw new Error('no memory cgroup (v1 or v2) to create: this test needs a writable /sys/fs/cgroup, as root');
  const dir = join(CGROUP_ROOT, name);
  if (!readFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), 'utf8').includes('memory')) writeFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), '+memory');
  mkdirSync(dir);
  writeFileSync(join(dir, 'memory.max'), String(LIMIT));
  if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
  return { dir, remove: () => rmdirSync(dir) };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('alerts: OOM kill', () => {
  it('the gateway killed for memory in the container\'s cgroup produces one oom_kill alert, and the metric counts it', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const rx = http.createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        bodies.push(JSON.parse(text) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => void rx.close());

    const cgroup = createMemoryCgroup(`ocs-oom-${process.pid}-${Date.now()}`);
    let s: RunningSupervisor | null = null;
    cleanups.push(async () => {
      await s?.kill();
      // The cgroup can go once its processes are gone.
      for (let i = 0; i < 50; i++) {
        try {
          cgroup.remove();
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
    const metricsPort = await freePort();
    s = await startSupervisor({
      env: { SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1', SUPERVISOR_ALERT_WEBHOOK: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`, SUPERVISOR_ALERT_RESTARTS: '1000' },
      gateway: [process.execPath, join(ROOT, 'test', 'fixtures', 'oom-gateway.mjs')],
      // Into the cgroup before node starts: the supervisor and its gateway are the container.
      wrap: (argv) => ['/bin/sh', '-c', `echo $$ > ${cgroup.dir}/cgroup.procs && exec "$@"`, 'sh', ...argv],
    });
    const killed = await s.waitFor('gateway.exited', (r) => r['signal'] === 'SIGKILL', 30_000);
    expect(killed['memory']).toMatchObject({ oomKill: 1 });
    await s.waitFor('ops.alert_sent', (r) => r['kind'] === 'oom_kill', 10_000);
    // The respawned gateway is ready again and stays up; the 5 s poll sees the same counter: no second alert.
    await s.waitFor('gateway.ready', (r) => r['gatewayPid'] !== killed['gatewayPid']);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect(bodies.map((b) => b['kind'])).toEqual(['oom_kill']);
    expect(bodies[0]).toMatchObject({ severity: 'critical', facts: { newOomKills: 1, oomKillsTotal: 1 }, gateway: { lastExit: { signal: 'SIGKILL', reason: 'failure' } } });
    expect(String(bodies[0]!['text'])).toContain('killed 1 process(es) of this container for memory');
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/^openclaw_supervisor_cgroup_oom_kills_total 1$/m);
    expect(scrape).toMatch(new RegExp(`^openclaw_supervisor_cgroup_memory_max_bytes ${LIMIT}$`, 'm'));
    expect(scrape).toMatch(/^openclaw_supervisor_gateway_restarts_total\{cause="crash"\} 1$/m);
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
