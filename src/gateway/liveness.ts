import { abortableSleep } from './abortable-sleep.js';
import { loopbackGet } from './loopback-get.js';
import type { LivenessEvidence } from '../log/events.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * Liveness of a ready gateway: readiness says it once started; this says it still
 * answers. A frozen gateway (SIGSTOP, a wedged event loop) keeps its port open and its process
 * alive, so nothing else notices it.
 *
 * The decision is pure (`stepLiveness`: one probe result in, the next state and what to do out);
 * `watchLiveness` is its I/O: one GET /healthz on loopback at a time, on a socket of its own
 * (`agent: false`: never one of the forwarding pool's), with a timeout, `intervalMs` apart.
 */
export interface LivenessSettings {
  /** Pause between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** A probe not answered 200 within this is a failure. */
  readonly timeoutMs: number;
  /** Consecutive failures that get the gateway killed (and restarted under the restart policy). */
  readonly failuresToKill: number;
}

/**
 * Measured on openclaw@2026.9.6, Node 24, 2 cores shared with other work (load average 8-16),
 * `node bench/liveness-stall.mjs`: GET /healthz every 250 ms from a process of its own, 6 runs.
 * - Ordinary load: the slowest answer was MEASURED_ORDINARY_MAX_MS (startup right after ready
 *   0.35-1.9 s; 3 × 100 WebSocket connects with 5 `health` RPCs each 0.1-1.3 s; `openclaw status`
 *   ×2 and `doctor` ×2 in parallel 0.3-1.8 s; all of it at once 0.5-0.6 s).
 * - A 300-agent config reload: answers after 8.2 s, then 15 s for the load above on that config
 *   (the gateway logged a synchronous "slow SQLite coordinator lock wait"); in another run one answer
 *   after 4.5 s, then none for 45 s (the gateway then exited for a restart); in a third, after
 *   `doctor` had run on such a config, two probes went unanswered for their whole 60 s and one
 *   answer took 31 s: MEASURED_RELOAD_STALL_MS, a lower bound. A gateway busy like that is alive
 *   and must not be killed.
 * Hence: /readyz 503 only after 30 s without an answer (15× the ordinary worst, so it flips only
 * for stalls of the reload kind), and a kill only after 5 such probes in a row:
 * 5 × 30 s + 4 × 10 s = 190 s without a single answer, 3× the longest stall seen. A frozen gateway
 * is killed within intervalMs + that = 200 s (Docker's HEALTHCHECK defaults take 90-120 s).
 */
export const MEASURED_ORDINARY_MAX_MS = 1_920;
export const MEASURED_RELOAD_STALL_MS = 60_000;
export const DEFAULT_LIVENESS: LivenessSettings = { intervalMs: TIME_BOUNDS.livenessInterval.ms, timeoutMs: TIME_BOUNDS.livenessTimeout.ms, failuresToKill: 5 };

/** How long a gateway must answer nothing before these settings kill it (its probes back to back). */
export const killAfterMs = (settings: LivenessSettings): number => settings.failuresToKill * settings.timeoutMs + (settings.failuresToKill - 1) * settings.intervalMs;

export type ProbeError = 'timeout' | 'refused' | 'reset' | 'status' | 'error';

/** One probe: when it started, how long it took, and whether the gateway answered 200. */
export type ProbeResult =
  | { readonly ok: true; readonly at: number; readonly durationMs: number }
  | { readonly ok: false; readonly at: number; readonly durationMs: number; readonly error: ProbeError; readonly status?: number };

export interface LivenessState {
  readonly failures: number;
  /** Start of the first probe of the current run of failures. */
  readonly failingSince: number | null;
  readonly lastError: ProbeError | null;
  /** The longest answer time seen (a successful probe), for the record. */
  readonly slowestOkMs: number;
  readonly killed: boolean;
}

export const INITIAL_LIVENESS: LivenessState = { failures: 0, failingSince: null, lastError: null, slowestOkMs: 0, killed: false };

/**
 * - none: nothing changed;
 * - failing: the first failure of a run: /readyz 503 from now on;
 * - recovered: a success after failures: /readyz follows the lifecycle again;
 * - kill: `failuresToKill` failures in a row: kill the group (once; nothing follows a kill).
 */
export type LivenessAction = 'none' | 'failing' | 'recovered' | 'kill';

export function stepLiveness(state: LivenessState, result: ProbeResult, settings: LivenessSettings): { state: LivenessState; action: LivenessAction } {
  if (state.killed) return { state, action: 'none' };
  if (result.ok) {
    const next = { ...INITIAL_LIVENESS, slowestOkMs: Math.max(state.slowestOkMs, result.durationMs) };
    return { state: next, action: state.failures > 0 ? 'recovered' : 'none' };
  }
  const failures = state.failures + 1;
  const next: LivenessState = { ...state, failures, failingSince: state.failingSince ?? result.at, lastError: result.error };
  if (failures >= settings.failuresToKill) return { state: { ...next, killed: true }, action: 'kill' };
  return { state: next, action: failures === 1 ? 'failing' : 'none' };
}

/** The evidence a kill is logged with: which probe, for how long, how many. */
export function killEvidence(state: LivenessState, now: number, settings: LivenessSettings): LivenessEvidence {
  return {
    probe: 'GET /healthz',
    failures: state.failures,
    lastError: state.lastError,
    unresponsiveForMs: state.failingSince === null ? 0 : now - state.failingSince,
    timeoutMs: settings.timeoutMs,
    intervalMs: settings.intervalMs,
    slowestOkMs: state.slowestOkMs,
  };
}

export type Probe = (port: number, timeoutMs: number, signal?: AbortSignal) => Promise<ProbeResult>;

/** GET /healthz on 127.0.0.1 with a socket of its own; any answer but 200 within `timeoutMs` fails. */
export const probeHealthz: Probe = async (port, timeoutMs, signal) => {
  const at = Date.now();
  const answer = await loopbackGet(port, '/healthz', timeoutMs, null, signal);
  const durationMs = Date.now() - at;
  if (!answer.ok) return { ok: false, at, durationMs, error: answer.error === 'too_large' ? 'error' : answer.error };
  return answer.status === 200 ? { ok: true, at, durationMs } : { ok: false, at, durationMs, error: 'status', status: answer.status };
};

export interface LivenessHooks {
  onAction(action: Exclude<LivenessAction, 'none'>, state: LivenessState): void;
}

/**
 * Probes until `signal` aborts (the gateway exited, a stop began) or a kill was decided. The first
 * probe waits one interval: the gateway was just found ready.
 */
export async function watchLiveness(port: number, settings: LivenessSettings, signal: AbortSignal, hooks: LivenessHooks, probe: Probe = probeHealthz, sleep = abortableSleep): Promise<void> {
  let state = INITIAL_LIVENESS;
  while (!signal.aborted) {
    await sleep(settings.intervalMs, signal);
    if (signal.aborted) return;
    const result = await probe(port, settings.timeoutMs, signal);
    // A stop or an exit during the probe: its failure says nothing about a frozen gateway.
    if (signal.aborted) return;
    const step = stepLiveness(state, result, settings);
    state = step.state;
    if (step.action !== 'none') hooks.onAction(step.action, state);
    if (state.killed) return;
  }
}
