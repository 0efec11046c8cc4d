import type { DrainCounts } from '../front-door/front-door.js';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import type { StopPlan } from './stop-plan.js';

/** What the stop needs of the front door. */
export interface DrainingFrontDoor {
  readonly inflightRequests: number;
  readonly openWebSockets: number;
  announceShutdown(): void;
  startDrain(): void;
  httpIdle(): Promise<void>;
  websocketsClosed(): Promise<void>;
  cutRemaining(): Promise<void>;
  counts(): DrainCounts;
}

/** What the stop needs of the gateway runner. */
export interface StoppableGateway {
  readonly pid: number | null;
  requestStop(): void;
  terminate(signal: 'SIGTERM' | 'SIGKILL'): boolean;
  exited(): Promise<void>;
}

/** Timers of the stop: the real clock in production, a fake one in the timeline tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; `cancel` releases the timer early. */
  sleep(ms: number): { readonly done: Promise<void>; cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms) {
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    });
    return { done, cancel: () => clearTimeout(timer) };
  },
};

export interface StopReport {
  readonly durationMs: number;
  readonly deadlineHit: boolean;
  readonly gatewayKilled: boolean;
}

/**
 * Runs a graceful stop along its plan. The one owner of the stop timeline: it alone announces,
 * drains, signals the gateway and cuts what is left, each exactly once; nothing else in the
 * supervisor starts a timer aimed at the same instants. The deadline is armed first, so nothing
 * below can stretch the stop past it.
 */
export async function runStop(plan: StopPlan, frontDoor: DrainingFrontDoor, gateway: StoppableGateway, logger: Logger, clock: Clock = systemClock): Promise<StopReport> {
  const startedAt = clock.now();
  const timers: Array<{ cancel(): void }> = [];
  const at = (instant: number): Promise<void> => {
    const timer = clock.sleep(startedAt + instant - clock.now());
    timers.push(timer);
    return timer.done;
  };
  const deadline = at(plan.deadlineAt).then(() => 'deadline' as const);
  let cut = false;
  let killed = false;
  const cutOnce = async (): Promise<void> => {
    if (cut) return;
    cut = true;
    await frontDoor.cutRemaining();
  };
  let killTried = false;
  const kill = (reason: string): void => {
    if (killTried) return;
    killTried = true;
    const pid = gateway.pid;
    if (gateway.terminate('SIGKILL') && pid !== null) {
      killed = true;
      emit(logger, 'gateway.killed', { gatewayPid: pid, reason, graceMs: plan.killAfterSigtermMs }, `the gateway did not exit within ${plan.killAfterSigtermMs} ms of SIGTERM: SIGKILL to its process group`);
    }
  };

  emit(
    logger,
    'supervisor.drain_started',
    { deadlineMs: plan.deadlineAt, shutdownDelayMs: plan.drainStartsAt, inflightRequests: frontDoor.inflightRequests, openWebSockets: frontDoor.openWebSockets },
    `draining: ${frontDoor.inflightRequests} requests in flight, ${frontDoor.openWebSockets} WebSockets open, deadline ${plan.deadlineAt} ms`,
  );
  // No more restarts from here on, whatever happens to the gateway during the stop.
  gateway.requestStop();
  if (plan.drainStartsAt > 0) {
    frontDoor.announceShutdown();
    emit(logger, 'supervisor.shutdown_delay', { delayMs: plan.drainStartsAt }, `/readyz answers 503; still serving for ${plan.drainStartsAt} ms (SUPERVISOR_SHUTDOWN_DELAY_MS) while the platform stops routing here`);
    await at(plan.drainStartsAt);
  }
  frontDoor.startDrain();

  const drained = (async () => {
    await Promise.race([frontDoor.httpIdle(), at(plan.sigtermLatestAt)]);
    const sigtermAt = clock.now() - startedAt;
    gateway.terminate('SIGTERM');
    const killAt = Math.min(sigtermAt + plan.killAfterSigtermMs, plan.deadlineAt);
    const exitedInTime = await Promise.race([gateway.exited().then(() => true), at(killAt).then(() => false)]);
    if (!exitedInTime) {
      // Clients see our close code (1001), not a dead socket, then the group goes.
      await cutOnce();
      kill('stop');
      await gateway.exited();
    }
    await frontDoor.websocketsClosed();
    return 'drained' as const;
  })();

  const how = await Promise.race([drained, deadline]);
  if (how === 'deadline') {
    await cutOnce();
    kill('drain deadline');
    await gateway.exited();
  }
  for (const timer of timers) timer.cancel();
  const report = { durationMs: clock.now() - startedAt, deadlineHit: how === 'deadline', gatewayKilled: killed };
  emit(
    logger,
    'supervisor.drain_finished',
    { durationMs: report.durationMs, deadlineHit: report.deadlineHit, ...frontDoor.counts() },
    how === 'deadline' ? 'drain deadline reached: the rest was cut' : 'drained',
  );
  return report;
}
