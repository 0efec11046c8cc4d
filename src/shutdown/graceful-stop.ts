import type { FrontDoor } from '../front-door/front-door.js';
import type { GatewayRunner } from '../gateway/gateway-runner.js';
import type { Logger } from '../log/logger.js';

export interface StopPlan {
  readonly drainTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

/**
 * The graceful stop, bounded as a whole by the drain deadline:
 *  1. not ready, no new connections, idle keep-alive connections closed;
 *  2. in-flight HTTP requests finish, then the gateway gets SIGTERM and drains its WebSockets
 *     itself (event `shutdown`, close 1012), which the front door passes through;
 *  3. at the deadline, what is left is cut (WebSocket close 1001) and the gateway group SIGKILLed.
 * The gateway's SIGTERM goes out no later than `stopTimeoutMs` before the deadline, so its own
 * drain always gets that much time. Whenever the gateway has to be SIGKILLed, the sessions still
 * open are closed by the front door first.
 */
export async function gracefulStop(frontDoor: FrontDoor, runner: GatewayRunner, plan: StopPlan, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  // Armed before anything else: nothing below may stretch the stop past the deadline.
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    deadlineTimer = setTimeout(() => resolve('deadline'), plan.drainTimeoutMs);
  });
  let sigtermTimer: NodeJS.Timeout | undefined;
  const sigtermLatest = new Promise<void>((resolve) => {
    sigtermTimer = setTimeout(resolve, Math.max(0, plan.drainTimeoutMs - plan.stopTimeoutMs));
  });

  logger.info(
    { event: 'supervisor.drain_started', deadlineMs: plan.drainTimeoutMs, inflightRequests: frontDoor.inflightRequests, openWebSockets: frontDoor.openWebSockets },
    `draining: ${frontDoor.inflightRequests} requests in flight, ${frontDoor.openWebSockets} WebSockets open, deadline ${plan.drainTimeoutMs} ms`,
  );
  frontDoor.startDrain();

  const cutThenStop = (): Promise<void> => frontDoor.cutRemaining();
  const drained = (async () => {
    await Promise.race([frontDoor.httpIdle(), sigtermLatest]);
    await runner.stop(cutThenStop);
    await frontDoor.websocketsClosed();
    return 'drained' as const;
  })();
  const how = await Promise.race([drained, deadline]);
  clearTimeout(deadlineTimer);
  clearTimeout(sigtermTimer);
  if (how === 'deadline') {
    await frontDoor.cutRemaining();
    runner.kill();
    await runner.stop(cutThenStop);
  }
  logger.info(
    { event: 'supervisor.drain_finished', durationMs: Date.now() - startedAt, deadlineHit: how === 'deadline', ...frontDoor.counts(), gatewayExit: runner.lifecycle.lastExit },
    how === 'deadline' ? 'drain deadline reached: the rest was cut' : 'drained',
  );
}
