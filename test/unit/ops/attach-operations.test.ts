import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import type { FrontDoorStats } from '../../../src/front-door/front-door.js';
import type { MemoryEvidence } from '../../../src/host/evidence.js';
import { emit } from '../../../src/log/emit.js';
import type { SupervisorLogger } from '../../../src/log/logger.js';
import { attachOperations, type Operations } from '../../../src/ops/attach-operations.js';
import type { GatewayFacts } from '../../../src/ops/health-details.js';
import { TIME_BOUNDS } from '../../../src/time-bounds.js';
import { FIELDS } from '../../helpers/alert-steps.js';

/**
 * The cgroup's OOM-kill counter as attachOperations polls it, on fake timers: a clock far from 0
 * (an instant read as an offset instead of a time shows), the webhook a fake fetch. What the
 * integration test (test/integration/oom-alert.test.ts) cannot wait for in real time: polls that
 * read an unchanged counter alert nothing.
 */
const POLL_MS = TIME_BOUNDS.memoryPoll.ms;

let operations: Operations | null = null;
beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(async () => {
  await operations?.close(0);
  operations = null;
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const facts = (): GatewayFacts => ({ state: 'ready', readyAt: 1_700_000_000_000, lastReadyAt: 1_700_000_000_000, restarts: 0, lastExit: null });

async function setup(start: number | null, memoryPollMs?: number) {
  const home = mkdtempSync(join(tmpdir(), 'ocs-ops-'));
  const env = { OPENCLAW_STATE_DIR: join(home, 'state'), SUPERVISOR_ALERT_WEBHOOK: 'https://hooks.example/alerts', SUPERVISOR_DISK_CHECK_INTERVAL_MS: '0', SUPERVISOR_CHANNEL_HEALTH_INTERVAL_MS: '0' };
  const invocation = resolveConfig(env, [], home);
  if (invocation.command !== 'run') throw new Error('not a run');
  const posted: Array<Record<string, unknown>> = [];
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    posted.push(JSON.parse(String(init.body)) as Record<string, unknown>);
    return new Response(null, { status: 204 });
  });
  const logger = pino({ level: 'silent' });
  const log: SupervisorLogger = { logger, addSecrets: () => undefined, flush: () => undefined };
  const memory = { oomKill: start };
  const reads: number[] = [];
  operations = await attachOperations({
    config: invocation.config,
    log,
    frontDoor: { stats: () => ({}) as FrontDoorStats, setHealthDetails: () => undefined },
    gateway: facts,
    readMemory: (): MemoryEvidence => {
      reads.push(Date.now());
      return { currentBytes: 1, maxBytes: 2, oom: 0, oomKill: memory.oomKill };
    },
    version: '9.9.9',
    platform: 'local',
    env: {},
    ...(memoryPollMs === undefined ? {} : { memoryPollMs }),
  });
  const kinds = () => posted.map((body) => body['kind']);
  return { logger, memory, reads, posted, kinds };
}

describe('attachOperations: the OOM-kill poll', () => {
  it('reads the counter at start and every TIME_BOUNDS.memoryPoll; a rise alerts once, the same counter again never', async () => {
    const t0 = Date.now();
    const { memory, reads, kinds, posted } = await setup(0);
    expect(reads).toEqual([t0]);
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    expect(reads).toEqual([t0, t0 + POLL_MS, t0 + 2 * POLL_MS]);
    expect(kinds()).toEqual([]);

    memory.oomKill = 1;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(kinds()).toEqual(['oom_kill']);
    expect(posted[0]).toMatchObject({ facts: { newOomKills: 1, oomKillsTotal: 1 } });

    await vi.advanceTimersByTimeAsync(POLL_MS * 5);
    expect(reads).toHaveLength(9);
    expect(kinds()).toEqual(['oom_kill']);

    memory.oomKill = 3;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(kinds()).toEqual(['oom_kill', 'oom_kill']);
    expect(posted[1]).toMatchObject({ facts: { newOomKills: 2, oomKillsTotal: 3 } });
  });

  it("the gateway's exit record reports the kill first: the polls that then read the same counter alert nothing", async () => {
    const { logger, memory, kinds } = await setup(0);
    memory.oomKill = 1;
    emit(logger, 'gateway.exited', FIELDS.exited(1), 'the gateway was killed', 'error');
    await vi.advanceTimersByTimeAsync(0);
    expect(kinds()).toEqual(['oom_kill']);
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(kinds()).toEqual(['oom_kill']);
  });

  it('a cgroup without the counter (null) alerts nothing, and a counter first read above 0 is a baseline, not a kill', async () => {
    const none = await setup(null);
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    expect(none.kinds()).toEqual([]);
    await operations?.close(0);

    const earlier = await setup(4);
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    expect(earlier.kinds()).toEqual([]);
  });

  it('memoryPollMs replaces the pause', async () => {
    const t0 = Date.now();
    const { reads } = await setup(null, 250);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads.map((at) => at - t0)).toEqual([0, 250, 500, 750, 1_000]);
  });
});
