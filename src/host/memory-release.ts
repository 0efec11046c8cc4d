import v8 from 'node:v8';
import vm from 'node:vm';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * Giving a burst's memory back once the front door is quiet. V8's own idle-time
 * collector (the memory reducer) may wait long after a burst, or not run when the heap did not
 * grow enough: without this, the dead forwarded Buffers and the heap pages they grew stay
 * resident. Measured after 1000 never-reading clients: one collection returns 8-10 MB of V8 pages and every dead Buffer in 46-110 ms
 * (bench/burst-memory.mjs). The allocator's part (the freed 64 KB socket reads) is jemalloc's to
 * return (src/host/pid1.ts); glibc's main arena keeps it.
 */

/** How often the supervisor looks for a quiet, grown process. */
export const RELEASE_POLL_MS = TIME_BOUNDS.memoryReleasePoll.ms;
/** Growth of the RSS over its quiet floor that a collection is spent on (a burst's leftover, not noise). */
export const RELEASE_GROWTH_BYTES = 16 * 1024 * 1024;

/** What the front door did, read at each poll. */
export interface Activity {
  /** Forwarded HTTP requests not finished yet. */
  readonly inflight: number;
  /** A counter that moves with every request answered and connection or WebSocket opened. */
  readonly served: number;
}

export interface ReleaseState {
  /** The lowest RSS seen while quiet, or the RSS right after the last release. */
  readonly floorBytes: number;
  /** `served` at the previous poll; null before the first. */
  readonly lastServed: number | null;
}

/**
 * One poll: release when the front door did nothing since the previous poll (nothing in flight, no
 * new request or connection) and the RSS stands RELEASE_GROWTH_BYTES or more above its quiet floor.
 * Busy polls leave the floor alone, so a burst's peak never becomes the floor.
 */
export function pollRelease(state: ReleaseState, rssBytes: number, activity: Activity): { state: ReleaseState; release: boolean } {
  const quiet = activity.inflight === 0 && state.lastServed === activity.served;
  if (!quiet) return { state: { floorBytes: state.floorBytes, lastServed: activity.served }, release: false };
  const floorBytes = Math.min(state.floorBytes, rssBytes);
  return { state: { floorBytes, lastServed: activity.served }, release: rssBytes - floorBytes >= RELEASE_GROWTH_BYTES };
}

/**
 * A full, memory-reducing collection (V8's "last resort": compacts, frees dead ArrayBuffers' memory,
 * unmaps emptied pages). `gc` is exposed at run time: no command-line flag is needed however the
 * supervisor is started.
 */
export function fullCollection(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (options?: object) => void;
  return () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export interface MemoryReleaseOptions {
  readonly activity: () => Activity;
  readonly logger: Logger;
  readonly rss?: () => number;
  readonly collect?: () => void;
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** Polls (unref'd timer) and releases after a burst; `close()` stops it. */
export function startMemoryRelease({ activity, logger, rss = () => process.memoryUsage.rss(), collect = fullCollection(), pollMs = RELEASE_POLL_MS, now = () => performance.now() }: MemoryReleaseOptions): { close(): void } {
  let state: ReleaseState = { floorBytes: rss(), lastServed: null };
  const timer = setInterval(() => {
    const beforeBytes = rss();
    const polled = pollRelease(state, beforeBytes, activity());
    state = polled.state;
    if (!polled.release) return;
    const startedAt = now();
    collect();
    const afterBytes = rss();
    const aboveFloorBytes = beforeBytes - state.floorBytes;
    state = { floorBytes: afterBytes, lastServed: state.lastServed };
    const mb = (bytes: number): number => Math.round(bytes / 1048576);
    emit(
      logger,
      'supervisor.memory_released',
      { beforeBytes, afterBytes, aboveFloorBytes, ms: Math.round(now() - startedAt) },
      `the front door went quiet with the RSS ${mb(aboveFloorBytes)} MB above its quiet floor: a full collection returned ${mb(beforeBytes - afterBytes)} MB (${mb(beforeBytes)} → ${mb(afterBytes)} MB)`,
    );
  }, pollMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
