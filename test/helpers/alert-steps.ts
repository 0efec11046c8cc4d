import { INITIAL_ALERT_STATE, stepAlerts, type AlertInput, type AlertKind, type AlertPolicyState } from '../../src/ops/alert-policy.js';
import type { OpsEvent } from '../../src/ops/ops-events.js';

/** The alert policy's settings the unit tables are written against: 3 failure restarts in 60 s. */
export const ALERT_SETTINGS = { restarts: 3, windowMs: 60_000 };

export const ev = (event: OpsEvent): AlertInput => ({ kind: 'event', event });

/** Runs the inputs in order through stepAlerts; returns the kinds alerted after each. */
export function runAlerts(inputs: readonly AlertInput[]): AlertKind[][] {
  let state: AlertPolicyState = INITIAL_ALERT_STATE;
  return inputs.map((input) => {
    const step = stepAlerts(state, input, ALERT_SETTINGS);
    state = step.state;
    return step.alerts.map((a) => a.kind);
  });
}
