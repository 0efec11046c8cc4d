import type { ExitSummary, OpsEvent, RestartCause } from './ops-events.js';

/**
 * When to alert, as a pure step function: events and memory readings in, alerts out. Kinds:
 * - crash_loop: the supervisor gave up on a crash loop (it exits 1 next): once;
 * - refused: the gateway refused its config or auth, exit 78 (it exits 78 next): once;
 * - oom_kill: the cgroup's memory.events oom_kill counter rose (the kernel killed a process of
 *   this container for memory), seen by polling or in a gateway exit record;
 * - restarts: `threshold` restarts after failures within `windowMs` (a restart request is no
 *   failure); then quiet for one window, so a slow loop alerts once per window, not per restart;
 * - unresponsive: the ready gateway stopped answering its liveness probe and was killed: once per
 *   kill (each kill is a restart, so a loop of them ends in crash_loop).
 */
export type AlertKind = 'crash_loop' | 'refused' | 'oom_kill' | 'restarts' | 'unresponsive';

export interface Alert {
  readonly kind: AlertKind;
  readonly severity: 'critical' | 'warning';
  readonly at: number;
  /** Numbers and enumerated values only: what the payload shows besides the context. */
  readonly facts: Readonly<Record<string, number | string | null>>;
}

export interface AlertPolicySettings {
  readonly restarts: number;
  readonly windowMs: number;
}

export interface AlertPolicyState {
  readonly restartTimes: readonly number[];
  readonly quietUntil: number;
  readonly oomKills: number | null;
  readonly gaveUp: boolean;
}

export const INITIAL_ALERT_STATE: AlertPolicyState = { restartTimes: [], quietUntil: Number.NEGATIVE_INFINITY, oomKills: null, gaveUp: false };

export type AlertInput = { readonly kind: 'event'; readonly event: OpsEvent } | { readonly kind: 'memory'; readonly at: number; readonly oomKills: number | null };

const FAILURE_CAUSES: ReadonlySet<RestartCause> = new Set(['crash', 'startup-timeout', 'stable-failure', 'port-in-use', 'unresponsive', 'spawn-failed']);

export function stepAlerts(state: AlertPolicyState, input: AlertInput, settings: AlertPolicySettings): { state: AlertPolicyState; alerts: Alert[] } {
  if (input.kind === 'memory') return observeOomKills(state, input.oomKills, input.at);
  const event = input.event;
  switch (event.type) {
    case 'crash_loop':
      if (state.gaveUp) return { state, alerts: [] };
      return {
        state: { ...state, gaveUp: true },
        alerts: [{ kind: 'crash_loop', severity: 'critical', at: event.at, facts: { failures: event.failures, limitBurst: event.limitBurst, limitIntervalMs: event.limitIntervalMs, exitCode: 1 } }],
      };
    case 'refused':
      if (state.gaveUp) return { state, alerts: [] };
      return { state: { ...state, gaveUp: true }, alerts: [{ kind: 'refused', severity: 'critical', at: event.at, facts: { gatewayExitCode: event.code, exitCode: 78 } }] };
    case 'unresponsive':
      return { state, alerts: [{ kind: 'unresponsive', severity: 'critical', at: event.at, facts: { failures: event.failures, unresponsiveForMs: event.unresponsiveForMs } }] };
    case 'exited':
      return event.oomKills === null ? { state, alerts: [] } : observeOomKills(state, event.oomKills, event.at);
    case 'restart_scheduled': {
      if (!FAILURE_CAUSES.has(event.cause)) return { state, alerts: [] };
      const restartTimes = [...state.restartTimes.filter((t) => event.at - t < settings.windowMs), event.at];
      if (restartTimes.length < settings.restarts || event.at < state.quietUntil) return { state: { ...state, restartTimes }, alerts: [] };
      return {
        state: { ...state, restartTimes, quietUntil: event.at + settings.windowMs },
        alerts: [{ kind: 'restarts', severity: 'warning', at: event.at, facts: { restartsInWindow: restartTimes.length, threshold: settings.restarts, windowMs: settings.windowMs, lastCause: event.cause } }],
      };
    }
    default:
      return { state, alerts: [] };
  }
}

/** The first reading is the baseline (kills before this supervisor started are not news). */
function observeOomKills(state: AlertPolicyState, oomKills: number | null, at: number): { state: AlertPolicyState; alerts: Alert[] } {
  if (oomKills === null) return { state, alerts: [] };
  if (state.oomKills === null || oomKills <= state.oomKills) return { state: { ...state, oomKills: state.oomKills === null ? oomKills : Math.max(state.oomKills, oomKills) }, alerts: [] };
  return {
    state: { ...state, oomKills },
    alerts: [{ kind: 'oom_kill', severity: 'critical', at, facts: { newOomKills: oomKills - state.oomKills, oomKillsTotal: oomKills } }],
  };
}

/** What the payload says about the supervisor and the gateway besides the alert's own facts. */
export interface AlertContext {
  readonly service: string;
  readonly instance: string;
  readonly version: string;
  readonly platform: string;
  readonly gatewayState: string;
  readonly restarts: number;
  readonly lastExit: ExitSummary | null;
}

export interface AlertPayload {
  /** Slack, Mattermost and Discord's /slack endpoint show this. */
  readonly text: string;
  /** Discord's own webhook endpoint shows this. */
  readonly content: string;
  readonly kind: AlertKind;
  readonly severity: Alert['severity'];
  readonly summary: string;
  readonly at: string;
  readonly service: string;
  readonly instance: string;
  readonly version: string;
  readonly platform: string;
  readonly gateway: { readonly state: string; readonly restarts: number; readonly lastExit: { code: number | null; signal: string | null; reason: string; at: string } | null };
  readonly facts: Alert['facts'];
}

function summaryOf(alert: Alert): string {
  const f = alert.facts;
  switch (alert.kind) {
    case 'crash_loop':
      return `the gateway failed ${String(f['failures'])} times within ${Math.round(Number(f['limitIntervalMs']) / 1000)} s: the supervisor gave up and exits 1 (the platform's restart policy takes over)`;
    case 'refused':
      return 'the gateway refused its config or auth (exit 78, or another gateway owns the state dir): retrying cannot help, the supervisor exits 78';
    case 'oom_kill':
      return `the kernel killed ${String(f['newOomKills'])} process(es) of this container for memory (cgroup oom_kill, ${String(f['oomKillsTotal'])} in all): give it more memory (the gateway tree needs ~1 GB)`;
    case 'unresponsive':
      return `the gateway stopped answering its health probe for ${Math.round(Number(f['unresponsiveForMs']) / 1000)} s (${String(f['failures'])} probes in a row): the supervisor killed it and restarts it`;
    case 'restarts':
      return `the gateway restarted ${String(f['restartsInWindow'])} times after failures within ${Math.round(Number(f['windowMs']) / 1000)} s (last: ${String(f['lastCause'])})`;
  }
}

/**
 * The webhook body: built from the fields above only (enumerated values, numbers, the service's
 * name and version), never from log lines, the environment or the gateway's output, so no secret
 * can be in it whatever the logger redacts.
 */
export function buildAlertPayload(alert: Alert, context: AlertContext): AlertPayload {
  const summary = summaryOf(alert);
  const icon = alert.severity === 'critical' ? '🔴' : '🟠';
  const exit = context.lastExit;
  const exitText = exit === null ? '' : `; last exit: ${exit.signal ?? `code ${String(exit.code)}`} (${exit.reason})`;
  const text = `${icon} openclaw-supervisor on ${context.service} (${context.instance}): ${summary}. Gateway ${context.gatewayState}, ${context.restarts} restarts${exitText}.`;
  return {
    text,
    content: text.slice(0, 2000),
    kind: alert.kind,
    severity: alert.severity,
    summary,
    at: new Date(alert.at).toISOString(),
    service: context.service,
    instance: context.instance,
    version: context.version,
    platform: context.platform,
    gateway: {
      state: context.gatewayState,
      restarts: context.restarts,
      lastExit: exit === null ? null : { code: exit.code, signal: exit.signal, reason: exit.reason, at: new Date(exit.at).toISOString() },
    },
    facts: alert.facts,
  };
}
