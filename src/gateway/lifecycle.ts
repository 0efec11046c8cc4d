/**
 * The gateway's lifecycle as one explicit state and one transition function; everything else asks
 * the state instead of keeping booleans of its own.
 *
 *   idle ─spawned→ starting ─ready→ ready
 *   starting|ready ─exited→ backoff ─spawned→ starting        (a restart)
 *   starting|ready ─stop_requested→ stopping ─exited→ stopped
 *   idle|backoff ─stop_requested→ stopped
 *   idle|backoff ─gave_up→ failed                              (crash loop or config refusal; from idle when
 *                                                              no attempt ever spawned, e.g. its port was taken)
 */
import type { ExitOutcome } from './restart-policy.js';

export type GatewayState = 'idle' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

/** How the supervisor read an exit: the restart policy's outcome, or `startup-timeout` for a gateway it stopped because it never got ready. */
export type ExitReason = ExitOutcome | 'startup-timeout';

export interface LastExit extends ExitInfo {
  readonly reason: ExitReason;
}

export type LifecycleEvent =
  | { readonly type: 'spawned'; readonly at: number }
  | { readonly type: 'ready'; readonly at: number }
  | { readonly type: 'exited'; readonly exit: ExitInfo; readonly reason: ExitReason }
  | { readonly type: 'stop_requested'; readonly at: number }
  | { readonly type: 'gave_up'; readonly at: number };

export interface Lifecycle {
  readonly state: GatewayState;
  readonly spawnedAt: number | null;
  readonly readyAt: number | null;
  readonly lastReadyAt: number | null;
  readonly spawns: number;
  readonly lastExit: LastExit | null;
}

export const INITIAL_LIFECYCLE: Lifecycle = {
  state: 'idle',
  spawnedAt: null,
  readyAt: null,
  lastReadyAt: null,
  spawns: 0,
  lastExit: null,
};

const ALLOWED: Readonly<Record<LifecycleEvent['type'], readonly GatewayState[]>> = {
  spawned: ['idle', 'backoff'],
  ready: ['starting'],
  exited: ['starting', 'ready', 'stopping'],
  stop_requested: ['idle', 'starting', 'ready', 'backoff', 'stopping', 'stopped', 'failed'],
  gave_up: ['idle', 'backoff'],
};

export function transition(current: Lifecycle, event: LifecycleEvent): Lifecycle {
  if (!ALLOWED[event.type].includes(current.state)) {
    throw new Error(`gateway lifecycle: event ${event.type} is not allowed in state ${current.state}`);
  }
  switch (event.type) {
    case 'spawned':
      return { ...current, state: 'starting', spawnedAt: event.at, readyAt: null, spawns: current.spawns + 1 };
    case 'ready':
      return { ...current, state: 'ready', readyAt: event.at, lastReadyAt: event.at };
    case 'exited': {
      const lastReadyAt = current.state === 'ready' ? event.exit.at : current.lastReadyAt;
      const state = current.state === 'stopping' ? 'stopped' : 'backoff';
      return { ...current, state, readyAt: null, lastReadyAt, lastExit: { ...event.exit, reason: event.reason } };
    }
    case 'stop_requested': {
      if (current.state === 'starting' || current.state === 'ready') return { ...current, state: 'stopping' };
      if (current.state === 'idle' || current.state === 'backoff') return { ...current, state: 'stopped' };
      return current;
    }
    case 'gave_up':
      return { ...current, state: 'failed' };
  }
}

/** Restarts so far: every spawn after the first. */
export const restartsOf = (lifecycle: Lifecycle): number => Math.max(0, lifecycle.spawns - 1);
