import type { RestartPolicy } from '../config/config.js';
import type { ExitInfo } from './lifecycle.js';

/**
 * What an exit of the gateway means for the supervisor:
 * - requested-stop: we asked it to stop;
 * - restart-request: exit 0 after it was ready (external supervisor mode): respawn at once;
 * - refused: exit 78, a config/auth refusal or a locked state dir: retrying cannot help;
 * - stable-failure: a crash after it stayed ready for the stable period: the backoff starts over;
 * - failure: any other crash, including exit 0 before it was ever ready (so it cannot spin).
 */
export type ExitOutcome = 'requested-stop' | 'restart-request' | 'refused' | 'stable-failure' | 'failure';

export const EXIT_CONFIG_REFUSED = 78;

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

/** systemd's StartLimitBurst within StartLimitIntervalSec: the failures that still count at `now`. */
export function failuresInWindow(failureTimes: readonly number[], now: number, policy: RestartPolicy): number[] {
  return failureTimes.filter((at) => now - at < policy.limitIntervalMs);
}

export function isCrashLoop(failureTimes: readonly number[], now: number, policy: RestartPolicy): boolean {
  return failuresInWindow(failureTimes, now, policy).length >= policy.limitBurst;
}

/**
 * The options handed to p-retry. p-retry's randomize multiplies each delay by a random factor in
 * [1, 2), so the n-th delay (n from 0) lies in [initial·factorⁿ, 2·initial·factorⁿ), capped.
 */
export function backoffOptions(policy: RestartPolicy) {
  return {
    retries: Number.POSITIVE_INFINITY,
    factor: policy.factor,
    minTimeout: policy.initialDelayMs,
    maxTimeout: policy.maxDelayMs,
    randomize: true,
  } as const;
}

export function delayBounds(retriesConsumed: number, policy: RestartPolicy): { minMs: number; maxMs: number } {
  const base = policy.initialDelayMs * policy.factor ** retriesConsumed;
  return { minMs: Math.min(Math.round(base), policy.maxDelayMs), maxMs: Math.min(Math.round(2 * base), policy.maxDelayMs) };
}

export function describeExit(exit: Pick<ExitInfo, 'code' | 'signal'>): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}
