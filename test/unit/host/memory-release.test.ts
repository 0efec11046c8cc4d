import { afterEach, describe, expect, it, vi } from 'vitest';
import { RELEASE_GROWTH_BYTES, pollRelease, startMemoryRelease, type Activity, type ReleaseState } from '../../../src/host/memory-release.js';

const MiB = 1024 * 1024;
const FLOOR = 80 * MiB;
const at = (floorBytes: number, lastServed: number | null): ReleaseState => ({ floorBytes, lastServed });
const quietAfter = (served: number): Activity => ({ inflight: 0, served });

describe('pollRelease: one collection when the front door is quiet and the RSS stands well above its quiet floor', () => {
  it.each<[string, ReleaseState, number, Activity, boolean, number]>([
    // name, state, rss, activity, release, floor after
    ['quiet, grown by the threshold: release', at(FLOOR, 7), FLOOR + RELEASE_GROWTH_BYTES, quietAfter(7), true, FLOOR],
    ['quiet, grown by less: no release', at(FLOOR, 7), FLOOR + RELEASE_GROWTH_BYTES - 1, quietAfter(7), false, FLOOR],
    ['requests answered since the last poll: busy, no release', at(FLOOR, 7), FLOOR + 100 * MiB, quietAfter(8), false, FLOOR],
    ['a request in flight (a never-reading client): busy, no release', at(FLOOR, 7), FLOOR + 100 * MiB, { inflight: 1, served: 7 }, false, FLOOR],
    ['the first poll has nothing to compare: busy', at(FLOOR, null), FLOOR + 100 * MiB, quietAfter(0), false, FLOOR],
    ['quiet and lower: the floor follows down', at(FLOOR, 7), FLOOR - 5 * MiB, quietAfter(7), false, FLOOR - 5 * MiB],
    ['busy and lower: the floor stays (only quiet readings count)', at(FLOOR, 7), FLOOR - 5 * MiB, quietAfter(9), false, FLOOR],
  ])('%s', (_name, state, rss, activity, release, floorAfter) => {
    const polled = pollRelease(state, rss, activity);
    expect(polled.release).toBe(release);
    expect(polled.state).toEqual({ floorBytes: floorAfter, lastServed: activity.served });
  });
});

describe('startMemoryRelease', () => {
  afterEach(() => vi.useRealTimers());

  it('collects once after a burst, logs it, and not again until the RSS grows anew', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    let rss = FLOOR;
    let activity: Activity = quietAfter(0);
    const collect = vi.fn(() => {
      rss = FLOOR + 4 * MiB;
    });
    const info = vi.fn();
    const release = startMemoryRelease({ activity: () => activity, logger: { info } as never, rss: () => rss, collect, pollMs: 1000, now: () => Date.now() });
    vi.advanceTimersByTime(1000);
    // The burst: requests answered, RSS up; no collection while busy.
    activity = { inflight: 3, served: 500 };
    rss = FLOOR + 70 * MiB;
    vi.advanceTimersByTime(1000);
    activity = quietAfter(1000);
    vi.advanceTimersByTime(1000);
    expect(collect).not.toHaveBeenCalled();
    // Quiet for one whole poll: one collection.
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith(expect.objectContaining({ event: 'supervisor.memory_released', beforeBytes: FLOOR + 70 * MiB, afterBytes: FLOOR + 4 * MiB }), expect.any(String));
    // Still quiet, RSS where the collection left it: the new floor, nothing more to do.
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(1);
    release.close();
    rss = FLOOR + 200 * MiB;
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(1);
  });
});
