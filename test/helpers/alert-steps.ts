import type { EventFields, EventName, SupervisorEvent } from '../../src/log/events.js';
import { INITIAL_ALERT_STATE, stepAlerts, type AlertInput, type AlertKind, type AlertPolicyState } from '../../src/ops/alert-policy.js';

/** The alert policy's settings the unit tables are written against: 3 failure restarts in 60 s. */
export const ALERT_SETTINGS = { restarts: 3, windowMs: 60_000 };

/** One typed event, as emit (src/log/emit.ts) hands it to subscribers. */
export const event = <N extends EventName>(name: N, fields: EventFields[N]): SupervisorEvent => ({ name, fields }) as SupervisorEvent;

/** The event `name` with `fields`, seen by the alert policy at `at`. */
export const ev = <N extends EventName>(at: number, name: N, fields: EventFields[N]): AlertInput => ({ kind: 'event', event: event(name, fields), at });

/** Typical fields of the events the tables use. */
export const FIELDS = {
  unresponsive: { gatewayPid: 3, probe: 'GET /healthz', failures: 3, lastError: 'timeout', unresponsiveForMs: 40_000, timeoutMs: 5_000, intervalMs: 10_000, slowestOkMs: 12 },
  crashLoop: { failures: 5, limitBurst: 5, limitIntervalMs: 300_000, lastExit: { code: 1, signal: null, at: 1 } },
  refused: { code: 78, stderrTail: ['refused'] },
  exited: (oomKills: number | null): EventFields['gateway.exited'] => ({
    gatewayPid: 3,
    code: null,
    signal: 'SIGKILL',
    outcome: 'failure',
    wasReady: true,
    uptimeMs: 1_000,
    ...(oomKills === null ? {} : { memory: { currentBytes: 1, maxBytes: 2, oom: 1, oomKill: oomKills } }),
    stderrTail: [],
  }),
} as const satisfies { unresponsive: EventFields['gateway.unresponsive']; crashLoop: EventFields['gateway.crash_loop']; refused: EventFields['gateway.refused']; exited: unknown };

/** Runs the inputs in order through stepAlerts; returns the kinds alerted after each. */
export function runAlerts(inputs: readonly AlertInput[]): AlertKind[][] {
  let state: AlertPolicyState = INITIAL_ALERT_STATE;
  return inputs.map((input) => {
    const step = stepAlerts(state, input, ALERT_SETTINGS);
    state = step.state;
    return step.alerts.map((a) => a.kind);
  });
}
