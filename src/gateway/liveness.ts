import { abortableSleep } from './abortable-sleep.js';
import { loopbackGet } from './loopback-get.js';
import type { LivenessEvidence } from '../log/events.js';
import type { LivenessSettings } from '../config/liveness-settings.js';

/**
 * Liveness of a ready gateway: readiness says it once started; this says it still
 * answers. A frozen gateway (SIGSTOP, a wedged event loop) keeps its port open and its process
 * alive, so nothing else notices it.
 *
 * The decision is pure (`stepLiveness`: one probe result in, the next state and what to do out);
 * `watchLiveness` is its I/O: one GET /healthz on loopback at a time, on a socket of its own
 * (`agent: false`: never one of the forwarding pool's), with a timeout, `intervalMs` apart; its
 * settings and their measured defaults are in src/config/liveness-settings.ts.
 */
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
