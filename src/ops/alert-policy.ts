import type { RestartCause } from '../gateway/restart-policy.js';
import type { SupervisorEvent } from '../log/events.js';
import type { ExitSummary } from './health-details.js';

/**
 * When to alert, as a pure step function: events and memory readings in, alerts out. Kinds:
 * - crash_loop: the supervisor gave up on a crash loop (it exits 1 next): once;
 * - refused: the gateway refused its config or auth, exit 78 (it exits 78 next): once;
 * - oom_kill: the cgroup's memory.events oom_kill counter rose (the kernel killed a process of
 *   this container for memory), seen by polling or in a gateway exit record;
 * - restarts: `threshold` restarts after failures within `windowMs` (a restart request is no
 *   failure); then quiet for one window, so a slow loop alerts once per window, not per restart;
 * - unresponsive: the ready gateway stopped answering its liveness probe and was killed: once per
 *   kill (each kill is a restart, so a loop of them ends in crash_loop);
 * - channel_unhealthy: the gateway's own /readyz started naming a channel (or an agent database…)
 *   as failing; the gateway is not restarted for it. Once per channel per window (a flapping one);
 * - disk_low, disk_read_only: the state directory's file system ran low or refused a write; once per
 *   window each;
 * - update_rolled_back: a step to another openclaw release was refused (install, engines, backup,
 *   preflight) or its release never got ready: the last good one runs. Once per step.
 */
export type AlertKind = 'crash_loop' | 'refused' | 'oom_kill' | 'restarts' | 'unresponsive' | 'channel_unhealthy' | 'disk_low' | 'disk_read_only' | 'update_rolled_back';

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
  /** Until when each once-per-window alert (`channel:<id>`, `disk_low`, `disk_read_only`) stays quiet. */
  readonly quietKeys: Readonly<Record<string, number>>;
}

export const INITIAL_ALERT_STATE: AlertPolicyState = { restartTimes: [], quietUntil: Number.NEGATIVE_INFINITY, oomKills: null, gaveUp: false, quietKeys: {} };

/** An event as it happened at `at` (the subscriber's clock), or a reading of the cgroup's OOM-kill counter. */
export type AlertInput = { readonly kind: 'event'; readonly event: SupervisorEvent; readonly at: number } | { readonly kind: 'memory'; readonly at: number; readonly oomKills: number | null };

const FAILURE_CAUSES: ReadonlySet<RestartCause> = new Set(['failure', 'startup-timeout', 'stable-failure', 'port-in-use', 'unresponsive', 'spawn-failed']);

export function stepAlerts(state: AlertPolicyState, input: AlertInput, settings: AlertPolicySettings): { state: AlertPolicyState; alerts: Alert[] } {
  if (input.kind === 'memory') return observeOomKills(state, input.oomKills, input.at);
  const { event, at } = input;
  switch (event.name) {
    case 'gateway.crash_loop': {
      if (state.gaveUp) return { state, alerts: [] };
      const { failures, limitBurst, limitIntervalMs } = event.fields;
      return { state: { ...state, gaveUp: true }, alerts: [{ kind: 'crash_loop', severity: 'critical', at, facts: { failures, limitBurst, limitIntervalMs, exitCode: 1 } }] };
    }
    case 'gateway.refused':
      if (state.gaveUp) return { state, alerts: [] };
      return { state: { ...state, gaveUp: true }, alerts: [{ kind: 'refused', severity: 'critical', at, facts: { gatewayExitCode: event.fields.code, exitCode: 78 } }] };
    case 'gateway.unresponsive':
      return { state, alerts: [{ kind: 'unresponsive', severity: 'critical', at, facts: { failures: event.fields.failures, unresponsiveForMs: event.fields.unresponsiveForMs } }] };
    case 'gateway.channel_unhealthy':
      return oncePerWindow(state, `channel:${event.fields.channel}`, at, settings, { kind: 'channel_unhealthy', severity: 'warning', at, facts: { channel: event.fields.channel } });
    case 'supervisor.state_disk_low': {
      const { freeBytes, sizeBytes, thresholdBytes } = event.fields;
      return oncePerWindow(state, 'disk_low', at, settings, { kind: 'disk_low', severity: 'warning', at, facts: { freeBytes, sizeBytes, thresholdBytes } });
    }
    case 'supervisor.state_disk_read_only':
      return oncePerWindow(state, 'disk_read_only', at, settings, { kind: 'disk_read_only', severity: 'critical', at, facts: { code: event.fields.code } });
    case 'gateway.update_rolled_back':
      return { state, alerts: [{ kind: 'update_rolled_back', severity: 'warning', at, facts: { stage: event.fields.stage, from: event.fields.from, to: event.fields.to } }] };
    case 'gateway.exited': {
      const oomKills = event.fields.memory?.oomKill ?? null;
      return oomKills === null ? { state, alerts: [] } : observeOomKills(state, oomKills, at);
    }
    case 'gateway.restart_scheduled': {
      const cause = event.fields.reason;
      if (!FAILURE_CAUSES.has(cause)) return { state, alerts: [] };
      const restartTimes = [...state.restartTimes.filter((t) => at - t < settings.windowMs), at];
      if (restartTimes.length < settings.restarts || at < state.quietUntil) return { state: { ...state, restartTimes }, alerts: [] };
      return {
        state: { ...state, restartTimes, quietUntil: at + settings.windowMs },
        alerts: [{ kind: 'restarts', severity: 'warning', at, facts: { restartsInWindow: restartTimes.length, threshold: settings.restarts, windowMs: settings.windowMs, lastCause: cause } }],
      };
    }
    default:
      return { state, alerts: [] };
  }
}

/** One alert for `key`, then quiet for one window; expired keys are dropped, so the map stays small. */
function oncePerWindow(state: AlertPolicyState, key: string, at: number, settings: AlertPolicySettings, alert: Alert): { state: AlertPolicyState; alerts: Alert[] } {
  const quietKeys = Object.fromEntries(Object.entries(state.quietKeys).filter(([, until]) => until > at));
  if (Object.hasOwn(quietKeys, key)) return { state: { ...state, quietKeys }, alerts: [] };
  return { state: { ...state, quietKeys: { ...quietKeys, [key]: at + settings.windowMs } }, alerts: [alert] };
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
  /** Set when the alert could not be delivered before the previous run's exit and comes from the spool (alert-spool.ts). */
  readonly late?: true;
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
    case 'channel_unhealthy':
      return `the gateway reports ${String(f['channel'])} as failing in its readiness (GET /readyz): the gateway keeps running and is not restarted for it; see \`openclaw channels status\` and the gateway's log`;
    case 'disk_low':
      return `the state directory's disk is low: ${mib(f['freeBytes'])} MiB free of ${mib(f['sizeBytes'])} MiB (alert below ${mib(f['thresholdBytes'])} MiB): free space or grow the volume before the gateway's writes fail`;
    case 'disk_read_only':
      return `the state directory refused a write (${String(f['code'])}): the gateway cannot save sessions, config or its token; check the volume`;
    case 'update_rolled_back':
      return `openclaw ${String(f['to'])} was not taken into service (${String(f['stage'])}): openclaw ${String(f['from'])} keeps running; the supervisor's gateway.update_rolled_back record says why`;
    case 'restarts':
      return `the gateway restarted ${String(f['restartsInWindow'])} times after failures within ${Math.round(Number(f['windowMs']) / 1000)} s (last: ${String(f['lastCause'])})`;
  }
}

/** Bytes as MiB with one decimal for a message; `?` when unknown. */
export const mib = (bytes: unknown): string => (typeof bytes === 'number' ? (bytes / (1024 * 1024)).toFixed(1) : '?');

/**
 * The webhook body: built from the fields above only (enumerated values, numbers, the service's
 * name and version), never from log lines, the environment or the gateway's output, so no secret
 * can be in it whatever the logger redacts.
 */
export function buildAlertPayload(alert: Alert, context: AlertContext, options: { late?: boolean } = {}): AlertPayload {
  const summary = summaryOf(alert);
  const icon = `${alert.severity === 'critical' ? '🔴' : '🟠'}${options.late === true ? ` (from the previous run, ${new Date(alert.at).toISOString()}, not delivered before its exit)` : ''}`;
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
    ...(options.late === true ? { late: true as const } : {}),
  };
}
