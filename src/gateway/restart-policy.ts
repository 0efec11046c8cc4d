import type { RestartPolicy } from '../config/config.js';
import { EXIT } from '../exit-codes.js';
import type { ExitInfo } from './lifecycle.js';

/**
 * What an exit of the gateway means for the supervisor:
 * - requested-stop: we asked it to stop;
 * - restart-request: exit 0 after it was ready (external supervisor mode): respawn at once;
 * - refused: exit 78, a config/auth refusal or a locked state dir: retrying cannot help;
 * - stable-failure: a crash after it stayed ready for the stable period: the backoff starts over;
 * - failure: any other crash, including exit 0 before it was ever ready (so it cannot spin);
 * - unresponsive: we killed it because it stopped answering its liveness probe (src/gateway/liveness.ts).
 */
export type ExitOutcome = 'requested-stop' | 'restart-request' | 'refused' | 'stable-failure' | 'failure' | 'unresponsive';

const EXIT_OUTCOME_SET: { readonly [O in ExitOutcome]: true } = { 'requested-stop': true, 'restart-request': true, refused: true, 'stable-failure': true, failure: true, unresponsive: true };
export const EXIT_OUTCOMES = Object.keys(EXIT_OUTCOME_SET) as readonly ExitOutcome[];

export const EXIT_CONFIG_REFUSED = EXIT.configRefused;

export function classifyExit(
  exit: Pick<ExitInfo, 'code' | 'signal'>,
  context: { readonly stopRequested: boolean; readonly readyForMs: number | null; readonly stableAfterMs: number },
): ExitOutcome {
  if (context.stopRequested) return 'requested-stop';
  if (exit.code === EXIT_CONFIG_REFUSED) return 'refused';
  if (exit.code === 0 && context.readyForMs !== null) return 'restart-request';
  if (context.readyForMs !== null && context.readyForMs >= context.stableAfterMs) return 'stable-failure';
  return 'failure';
}

/**
 * The outcome of an exit after the liveness watch killed the gateway: `unresponsive` for what would
 * otherwise be a failure; a requested stop stays one, and so does a stable failure (it stayed ready
 * for the stable period before it froze: the backoff starts over, as after any crash then).
 */
export function outcomeAfterKill(classified: ExitOutcome, killedUnresponsive: boolean): ExitOutcome {
  return killedUnresponsive && classified === 'failure' ? 'unresponsive' : classified;
}

/** systemd's StartLimitBurst within StartLimitIntervalSec: the failures that still count at `now`. */
export function failuresInWindow(failureTimes: readonly number[], now: number, policy: RestartPolicy): number[] {
  return failureTimes.filter((at) => now - at < policy.limitIntervalMs);
}

/**
 * Why an attempt ended without a gateway exit of its own to classify; `spawn-failed`: the process
 * could not be created at all (EMFILE, ENOMEM, EACCES, a missing executable): a failure like any
 * other; `rolled-back`: a release on trial never got ready and the last good one runs again at once
 * (no failure of the last good one).
 */
export type AttemptOutcome = ExitOutcome | 'startup-timeout' | 'port-in-use' | 'spawn-failed' | 'rolled-back';

/**
 * Why a respawn follows: the outcome of the attempt that ended (a plain crash is a `failure`, as in
 * the exit's outcome). The `gateway.restart_scheduled` record's `reason` and the restarts metric's
 * `cause` label.
 */
export type RestartCause = Exclude<AttemptOutcome, 'requested-stop' | 'refused'>;

const RESTART_CAUSE_SET: { readonly [C in RestartCause]: true } = {
  failure: true,
  'restart-request': true,
  'startup-timeout': true,
  'stable-failure': true,
  'port-in-use': true,
  unresponsive: true,
  'spawn-failed': true,
  'rolled-back': true,
};
export const RESTART_CAUSES = Object.keys(RESTART_CAUSE_SET) as readonly RestartCause[];

/** What the runner remembers between attempts: the failures that count, and the backoff step. */
export interface RestartHistory {
  /** Times of the failures still inside the crash-loop window. */
  readonly failures: readonly number[];
  /** Failures since the last reset (a stable run): the exponent of the next delay. */
  readonly step: number;
}

export const NO_HISTORY: RestartHistory = { failures: [], step: 0 };

export type Decision =
  | { readonly action: 'stop' }
  | { readonly action: 'give-up'; readonly exitCode: typeof EXIT.failed | typeof EXIT.configRefused; readonly failures: number }
  /** `attempt` and the delay's bounds are set for failures that grow the backoff. */
  | { readonly action: 'respawn'; readonly reason: RestartCause; readonly delayMs: number; readonly attempt: number | null; readonly bounds: { minMs: number; maxMs: number } | null };

/**
 * The restart policy in one pure step: what to do after an attempt ended, and the history to keep.
 * - a requested stop ends the runner; a refusal (78) gives up at once, retrying cannot help;
 * - a restart request (exit 0 after ready) respawns at once and is no failure, as does a rollback;
 * - a crash after a stable run is a failure that resets the backoff: respawn at once;
 * - any other failure counts towards the crash-loop limit (systemd's StartLimitBurst within
 *   StartLimitIntervalSec), and below it respawns after initial·factor^step, jittered by a random
 *   factor in [1, 2) and capped (the curve p-retry's `randomize` uses).
 * `random` is injected so the delay is known: the log states the delay that is really waited.
 */
export function decide(history: RestartHistory, outcome: AttemptOutcome, now: number, policy: RestartPolicy, random: () => number = Math.random): { decision: Decision; history: RestartHistory } {
  if (outcome === 'requested-stop') return { decision: { action: 'stop' }, history };
  if (outcome === 'refused') return { decision: { action: 'give-up', exitCode: EXIT.configRefused, failures: history.failures.length }, history };
  if (outcome === 'restart-request' || outcome === 'rolled-back') return { decision: { action: 'respawn', reason: outcome, delayMs: 0, attempt: null, bounds: null }, history };
  const failures = [...failuresInWindow(history.failures, now, policy), now];
  if (failures.length >= policy.limitBurst) return { decision: { action: 'give-up', exitCode: EXIT.failed, failures: failures.length }, history: { failures, step: history.step } };
  if (outcome === 'stable-failure') return { decision: { action: 'respawn', reason: outcome, delayMs: 0, attempt: null, bounds: null }, history: { failures, step: 0 } };
  const bounds = delayBounds(history.step, policy);
  const delayMs = Math.min(Math.round(bounds.minMs * (1 + random())), policy.maxDelayMs);
  return { decision: { action: 'respawn', reason: outcome, delayMs, attempt: history.step + 1, bounds }, history: { failures, step: history.step + 1 } };
}

/** The range of the delay after `step` earlier failures: [base, 2·base), both capped. */
export function delayBounds(step: number, policy: RestartPolicy): { minMs: number; maxMs: number } {
  const base = policy.initialDelayMs * policy.factor ** step;
  return { minMs: Math.min(Math.round(base), policy.maxDelayMs), maxMs: Math.min(Math.round(2 * base), policy.maxDelayMs) };
}

export function describeExit(exit: Pick<ExitInfo, 'code' | 'signal'>): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}
