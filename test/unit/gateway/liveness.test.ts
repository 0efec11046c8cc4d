import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIVENESS, MEASURED_ORDINARY_MAX_MS, MEASURED_RELOAD_STALL_MS, type LivenessSettings } from '../../../src/config/liveness-settings.js';
import { INITIAL_LIVENESS, killAfterMs, killEvidence, probeHealthz, stepLiveness, watchLiveness, type LivenessAction, type LivenessState, type ProbeResult } from '../../../src/gateway/liveness.js';
import { loopbackServers } from '../../helpers/loopback-servers.js';
import { freePort } from '../../helpers/ports.js';

const S: LivenessSettings = { intervalMs: 1_000, timeoutMs: 2_000, failuresToKill: 3 };
const ok = (at: number, durationMs = 5): ProbeResult => ({ ok: true, at, durationMs });
const fail = (at: number, error: 'timeout' | 'refused' = 'timeout'): ProbeResult => ({ ok: false, at, durationMs: 2_000, error });

/** Runs a sequence of probe results through the pure step; returns the actions and the last state. */
function run(results: ProbeResult[], settings = S): { actions: LivenessAction[]; state: LivenessState } {
  let state = INITIAL_LIVENESS;
  const actions: LivenessAction[] = [];
  for (const result of results) {
    const step = stepLiveness(state, result, settings);
    state = step.state;
    actions.push(step.action);
  }
  return { actions, state };
}

describe('stepLiveness: probe results → actions (a table)', () => {
  it.each<[string, ProbeResult[], LivenessAction[]]>([
    ['all answered', [ok(0), ok(1_000), ok(2_000)], ['none', 'none', 'none']],
    ['one failure: not ready at once', [ok(0), fail(1_000)], ['none', 'failing']],
    ['a failure then an answer: ready again', [fail(0), ok(3_000)], ['failing', 'recovered']],
    ['two failures, an answer, two failures: the run starts over, no kill', [fail(0), fail(3_000), ok(6_000), fail(7_000), fail(10_000)], ['failing', 'none', 'recovered', 'failing', 'none']],
    ['three in a row: kill', [fail(0), fail(3_000), fail(6_000)], ['failing', 'none', 'kill']],
    ['refused counts like a timeout', [fail(0, 'refused'), fail(1_000, 'refused'), fail(2_000, 'refused')], ['failing', 'none', 'kill']],
    ['nothing after a kill', [fail(0), fail(3_000), fail(6_000), fail(9_000), ok(10_000)], ['failing', 'none', 'kill', 'none', 'none']],
  ])('%s', (_name, results, expected) => {
    expect(run(results).actions).toEqual(expected);
  });

  it('a threshold of 1 kills on the first failure (no separate "failing" step)', () => {
    expect(run([fail(0)], { ...S, failuresToKill: 1 }).actions).toEqual(['kill']);
  });

  it('the kill evidence: which probe, how long, how many, the slowest answer before', () => {
    const { state } = run([ok(0, 120), ok(1_000, 40), fail(2_000), fail(5_000), fail(8_000)]);
    expect(killEvidence(state, 10_000, S)).toEqual({ probe: 'GET /healthz', failures: 3, lastError: 'timeout', unresponsiveForMs: 8_000, timeoutMs: 2_000, intervalMs: 1_000, slowestOkMs: 120 });
  });

  it('the defaults: not ready only past the ordinary load measured, a kill only far past the longest stall measured', () => {
    expect(DEFAULT_LIVENESS.timeoutMs).toBeGreaterThanOrEqual(10 * MEASURED_ORDINARY_MAX_MS);
    expect(killAfterMs(DEFAULT_LIVENESS)).toBeGreaterThanOrEqual(3 * MEASURED_RELOAD_STALL_MS);
    expect(killAfterMs(DEFAULT_LIVENESS)).toBe(190_000);
  });
});

describe('watchLiveness: the loop, with the probe and the clock injected', () => {
  it('waits an interval before each probe, reports each change once, stops after the kill', async () => {
    const results = [ok(0), fail(1), ok(2), fail(3), fail(4), fail(5), ok(6)];
    const sleeps: number[] = [];
    const seen: LivenessAction[] = [];
    let probes = 0;
    await watchLiveness(
      1,
      S,
      new AbortController().signal,
      { onAction: (action) => seen.push(action) },
      async (_port, timeoutMs) => {
        expect(timeoutMs).toBe(S.timeoutMs);
        return results[probes++]!;
      },
      async (ms) => {
        sleeps.push(ms);
      },
    );
    expect(seen).toEqual(['failing', 'recovered', 'failing', 'kill']);
    expect(probes).toBe(6);
    expect(sleeps).toEqual([1_000, 1_000, 1_000, 1_000, 1_000, 1_000]);
  });

  it('a failure that ends after the abort (the gateway exited, a stop began) is not counted', async () => {
    const abort = new AbortController();
    const seen: LivenessAction[] = [];
    await watchLiveness(1, S, abort.signal, { onAction: (action) => seen.push(action) }, async () => {
      abort.abort();
      return fail(0);
    }, async () => undefined);
    expect(seen).toEqual([]);
  });
});

describe('probeHealthz on loopback', () => {
  const { serve, closeAll } = loopbackServers();
  afterEach(closeAll);

  it('200 is alive', async () => {
    const port = await serve((_req, res) => res.end('{"ok":true}'));
    expect(await probeHealthz(port, 1_000)).toMatchObject({ ok: true });
  });

  it('another status fails with it', async () => {
    const port = await serve((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    expect(await probeHealthz(port, 1_000)).toMatchObject({ ok: false, error: 'status', status: 503 });
  });

  it('no answer fails within the timeout, and so does an answer that trickles', async () => {
    const silent = await serve(() => undefined);
    const started = Date.now();
    expect(await probeHealthz(silent, 300)).toMatchObject({ ok: false, error: 'timeout' });
    const trickle = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    expect(await probeHealthz(trickle, 300)).toMatchObject({ ok: false });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('nobody listening is refused', async () => {
    expect(await probeHealthz(await freePort(), 1_000)).toMatchObject({ ok: false, error: 'refused' });
  });
});
