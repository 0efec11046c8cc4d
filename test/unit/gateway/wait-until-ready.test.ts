import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { READINESS_POLL_MS, waitUntilReady, type StartupAnswer } from '../../../src/gateway/wait-until-ready.js';

/** A clock far from 0: `now - spawnedAt` read as `now + spawnedAt` would be caught. */
const T0 = 1_700_000_000_000;
const PORT = 18789;

describe('waitUntilReady: GET /startupz polled, with the answers and the clock injected', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  /** Answers in order (the last one repeats); counts the probes. */
  function answers(...list: StartupAnswer[]) {
    const calls: number[] = [];
    const get = async (port: number): Promise<StartupAnswer> => {
      expect(port).toBe(PORT);
      calls.push(Date.now() - T0);
      return list.length > 1 ? list.shift()! : list[0]!;
    };
    return { get, calls };
  }
  const ok = (uptimeMs?: number): StartupAnswer => ({ status: 200, body: uptimeMs === undefined ? '{}' : JSON.stringify({ uptimeMs }) });

  it('resolves at the first 200, probing at once and then every pollMs', async () => {
    const { get, calls } = answers(null, { status: 503, body: '' }, null, ok());
    const abort = new AbortController();
    let ready = false;
    const probe = waitUntilReady(PORT, T0, abort.signal, () => undefined, { get, now: Date.now, pollMs: 50 });
    void probe.ready.then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(ready).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(ready).toBe(true);
    expect(calls).toEqual([0, 50, 100, 150]);
    abort.abort();
  });

  it('polls every READINESS_POLL_MS by default', async () => {
    const { get, calls } = answers(null);
    const abort = new AbortController();
    waitUntilReady(PORT, T0, abort.signal, () => undefined, { get });
    await vi.advanceTimersByTimeAsync(READINESS_POLL_MS * 3);
    expect(calls).toEqual([0, READINESS_POLL_MS, 2 * READINESS_POLL_MS, 3 * READINESS_POLL_MS]);
    abort.abort();
  });

  it('a kick (the ready line) probes at once instead of at the next tick', async () => {
    const { get, calls } = answers(null, ok());
    const abort = new AbortController();
    const probe = waitUntilReady(PORT, T0, abort.signal, () => undefined, { get, pollMs: 10_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([0]);
    probe.kick();
    await vi.advanceTimersByTimeAsync(0);
    await expect(probe.ready).resolves.toBeUndefined();
    expect(calls).toEqual([0, 1_000]);
  });

  it('a 200 whose uptime predates the spawn is foreign: not ready, onForeign called', async () => {
    const spawnedAt = T0 + 5_000;
    vi.setSystemTime(spawnedAt + 2_000);
    const { get } = answers(ok(60_000), ok(2_500));
    const abort = new AbortController();
    const onForeign = vi.fn();
    let ready = false;
    const probe = waitUntilReady(PORT, spawnedAt, abort.signal, onForeign, { get, pollMs: 20 });
    void probe.ready.then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(onForeign).toHaveBeenCalledTimes(1);
    expect(ready).toBe(false);
    // 2.5 s of uptime 2 s after the spawn fits within the 1 s of slack: ours.
    await vi.advanceTimersByTimeAsync(20);
    expect(ready).toBe(true);
    expect(onForeign).toHaveBeenCalledTimes(1);
  });

  it('an uptime just past the slack is foreign', async () => {
    const { get } = answers(ok(3_001), ok(3_000));
    const abort = new AbortController();
    const onForeign = vi.fn();
    const probe = waitUntilReady(PORT, T0, abort.signal, onForeign, { get, now: () => T0 + 2_000, pollMs: 20 });
    await vi.advanceTimersByTimeAsync(20);
    await expect(probe.ready).resolves.toBeUndefined();
    expect(onForeign).toHaveBeenCalledTimes(1);
  });

  it('abort (startup timeout, exit, stop): rejects, and no probe follows', async () => {
    const { get, calls } = answers(null);
    const abort = new AbortController();
    const probe = waitUntilReady(PORT, T0, abort.signal, () => undefined, { get, pollMs: 20 });
    await vi.advanceTimersByTimeAsync(40);
    abort.abort(new Error('startup timeout'));
    await expect(probe.ready).rejects.toThrow('startup timeout');
    const probes = calls.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.length).toBe(probes);
  });

  it('a probe in flight is never doubled: a kick meanwhile probes again right after it', async () => {
    let release: (answer: StartupAnswer) => void = () => undefined;
    const calls: number[] = [];
    const get = (): Promise<StartupAnswer> => {
      calls.push(Date.now() - T0);
      return new Promise((resolve) => (release = resolve));
    };
    const abort = new AbortController();
    const probe = waitUntilReady(PORT, T0, abort.signal, () => undefined, { get, pollMs: 10_000 });
    await vi.advanceTimersByTimeAsync(0);
    probe.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([0]);
    release(null);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([0, 0]);
    abort.abort();
  });
});
