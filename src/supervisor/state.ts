/**
 * The supervisor's own lifecycle as one state and one transition function (the gateway has its
 * own in src/gateway/lifecycle.ts):
 *
 *   starting ─listening→ serving ─signal→ draining ─drained→ stopped (0)
 *   serving|draining ─gateway_ended(1|78)→ failed (1|78)           (crash loop or refusal)
 *   draining ─signal (a second SIGTERM/SIGINT)→ stopped (128+n)     (stop now)
 *   starting ─signal→ stopped (128+n)                                (nothing to drain yet)
 *
 * The exit code is decided by the transition into a final state, once: whatever settles later
 * (a drain finishing, the gateway exiting) cannot change it.
 */
import { EXIT, secondSignalExit } from '../exit-codes.js';

export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export type SupervisorState =
  | { readonly phase: 'starting' }
  | { readonly phase: 'serving' }
  | { readonly phase: 'draining'; readonly signal: StopSignal }
  | { readonly phase: 'stopped' | 'failed'; readonly exitCode: number; readonly reason: string };

export type SupervisorEvent =
  | { readonly type: 'listening' }
  | { readonly type: 'signal'; readonly signal: StopSignal }
  /** The gateway runner ended: 0 after a requested stop, 1 crash loop, 78 refusal. */
  | { readonly type: 'gateway_ended'; readonly code: typeof EXIT.ok | typeof EXIT.failed | typeof EXIT.configRefused }
  /** A bug of ours in the gateway runner: exit 1, but it is no crash loop. */
  | { readonly type: 'internal_error' }
  | { readonly type: 'drained' };

/** What the supervisor must do because of a transition (the I/O it owns). */
export type Effect = 'none' | 'start_stop' | 'stop_now' | 'cut_and_exit' | 'exit';

export const INITIAL_STATE: SupervisorState = { phase: 'starting' };

export function isFinal(state: SupervisorState): state is Extract<SupervisorState, { exitCode: number }> {
  return state.phase === 'stopped' || state.phase === 'failed';
}

export function supervisorTransition(state: SupervisorState, event: SupervisorEvent): { state: SupervisorState; effect: Effect } {
  if (isFinal(state)) return { state, effect: 'none' };
  switch (event.type) {
    case 'listening':
      return state.phase === 'starting' ? { state: { phase: 'serving' }, effect: 'none' } : { state, effect: 'none' };
    case 'signal': {
      if (state.phase === 'serving') return { state: { phase: 'draining', signal: event.signal }, effect: 'start_stop' };
      // A hangup during a drain is the terminal going away, not a request to hurry.
      if (event.signal === 'SIGHUP' && state.phase === 'draining') return { state, effect: 'none' };
      const reason = state.phase === 'draining' ? `second ${event.signal}` : `${event.signal} before listening`;
      return { state: { phase: 'stopped', exitCode: secondSignalExit(event.signal), reason }, effect: 'stop_now' };
    }
    case 'gateway_ended':
      // During a drain the gateway's end is part of the stop; the drain decides when it is over.
      if (state.phase === 'draining' || event.code === EXIT.ok) return { state, effect: 'none' };
      return {
        state: { phase: 'failed', exitCode: event.code, reason: event.code === EXIT.configRefused ? 'gateway refused its configuration' : 'gateway crash loop' },
        effect: 'cut_and_exit',
      };
    case 'internal_error':
      return { state: { phase: 'failed', exitCode: EXIT.failed, reason: 'internal error' }, effect: 'cut_and_exit' };
    case 'drained':
      return state.phase === 'draining' ? { state: { phase: 'stopped', exitCode: EXIT.ok, reason: 'stopped on signal' }, effect: 'exit' } : { state, effect: 'none' };
  }
}
