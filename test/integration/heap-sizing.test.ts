import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

/**
 * Heap sizing under a memory limit: the supervisor runs in a memory cgroup of its own (v1 or v2,
 * whichever this host has; root) with a 1 GiB limit, and the fake gateway prints the NODE_OPTIONS it
 * got and the heap limit V8 took from it.
 */
const LIMIT = 1024 * 1024 * 1024;
const CGROUP_ROOT = '/sys/fs/cgroup';

function createMemoryCgroup(name: string): { dir: string; remove(): void } {
  const v1 = join(CGROUP_ROOT, 'memory');
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    const dir = join(v1, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(LIMIT));
    return { dir, remove: () => rmdirSync(dir) };
  }
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) throw new Error('no memory cgroup (v1 or v2) to create: this test needs a writable /sys/fs/cgroup, as root');
  const dir = join(CGROUP_ROOT, name);
  if (!readFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), 'utf8').includes('memory')) writeFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), '+memory');
  mkdirSync(dir);
  writeFileSync(join(dir, 'memory.max'), String(LIMIT));
  return { dir, remove: () => rmdirSync(dir) };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startInCgroup(env: Record<string, string>): Promise<RunningSupervisor> {
  const cgroup = createMemoryCgroup(`ocs-heap-${process.pid}-${Date.now()}`);
  let s: RunningSupervisor | null = null;
  cleanups.push(async () => {
    await s?.kill();
    for (let i = 0; i < 50; i++) {
      try {
        cgroup.remove();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  s = await startSupervisor({ env: { FAKE_PRINT_HEAP: '1', ...env }, wrap: (argv) => ['/bin/sh', '-c', `echo $$ > ${cgroup.dir}/cgroup.procs && exec "$@"`, 'sh', ...argv] });
  return s;
}

const heapLine = (s: RunningSupervisor): string => String(s.records.find((r) => r['event'] === 'gateway.log' && String(r['msg']).includes('heap: NODE_OPTIONS'))?.['msg']);

describe('gateway heap sizing under a memory limit', () => {
  it('1 GiB limit, no heap flag set: the gateway gets --max-old-space-size=768 (the package rule), said at start', async () => {
    const s = await startInCgroup({ NODE_OPTIONS: '--enable-source-maps' });
    await s.waitFor('gateway.ready');
    expect(s.events('gateway.heap_sized')).toEqual([expect.objectContaining({ level: 'info', maxOldSpaceSizeMiB: 768, memoryLimitBytes: LIMIT })]);
    expect(heapLine(s)).toContain('NODE_OPTIONS="--enable-source-maps --max-old-space-size=768"');
    // V8 took it: its heap limit is the old space plus the young generation's few MiB.
    const limitMiB = Number(/heapSizeLimitMiB=(\d+)/.exec(heapLine(s))?.[1]);
    expect(limitMiB).toBeGreaterThanOrEqual(768);
    expect(limitMiB).toBeLessThan(850);
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('the user\'s own --max-old-space-size is left alone', async () => {
    const s = await startInCgroup({ NODE_OPTIONS: '--max-old-space-size=300' });
    await s.waitFor('gateway.ready');
    expect(s.events('gateway.heap_sized')).toEqual([]);
    expect(heapLine(s)).toContain('NODE_OPTIONS="--max-old-space-size=300"');
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
