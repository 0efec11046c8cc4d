import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCgroup } from '../helpers/memory-cgroup.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

/**
 * Heap sizing under a memory limit: the supervisor runs in a memory cgroup of its own (v1 or v2,
 * whichever this host has; root) with a 1 GiB limit, and the fake gateway prints the NODE_OPTIONS it
 * got and the heap limit V8 took from it.
 */
const LIMIT = 1024 * 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startInCgroup(env: Record<string, string>): Promise<RunningSupervisor> {
  const cgroup = createMemoryCgroup('ocs-heap', LIMIT);
  let s: RunningSupervisor | null = null;
  cleanups.push(async () => {
    await s?.kill();
    await cgroup.remove();
  });
  s = await startSupervisor({ env: { FAKE_PRINT_HEAP: '1', ...env }, wrap: cgroup.wrap });
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
