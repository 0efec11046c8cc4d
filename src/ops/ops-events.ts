/**
 * The supervisor's stable log events (docs/logs.md, "Stable events") read as typed operations events: metrics and
 * alerts follow the records the runner, the front door and the stop already write, so they need no
 * hook of their own in those modules and cannot disagree with the log. Pure: one record in, one
 * event (or null) out; only enumerated values, numbers and the gateway's channel ids (in the one
 * shape channel-health.ts lets through) are kept, never free text.
 */
import { OTHER_ENTRY, isReportableEntry } from './channel-health.js';

export const RESTART_CAUSES = ['crash', 'restart-request', 'startup-timeout', 'stable-failure', 'port-in-use', 'unresponsive', 'spawn-failed', 'rolled-back'] as const;
export type RestartCause = (typeof RESTART_CAUSES)[number];

export const EXIT_OUTCOMES = ['requested-stop', 'restart-request', 'refused', 'stable-failure', 'failure', 'unresponsive', 'other'] as const;
export type ExitOutcomeLabel = (typeof EXIT_OUTCOMES)[number];

export interface ExitSummary {
  readonly code: number | null;
  readonly signal: string | null;
  /** How the supervisor read the exit (restart-policy's outcome), or `startup-timeout`. */
  readonly reason: ExitOutcomeLabel | 'startup-timeout';
  readonly at: number;
}

export type OpsEvent =
  | { readonly type: 'spawned'; readonly at: number }
  | { readonly type: 'ready'; readonly at: number; readonly sinceSpawnMs: number | null }
  | { readonly type: 'exited'; readonly at: number; readonly exit: ExitSummary; readonly wasReady: boolean; readonly oomKills: number | null }
  | { readonly type: 'startup_timeout'; readonly at: number }
  | { readonly type: 'restart_scheduled'; readonly at: number; readonly cause: RestartCause }
  | { readonly type: 'crash_loop'; readonly at: number; readonly failures: number | null; readonly limitBurst: number | null; readonly limitIntervalMs: number | null }
  | { readonly type: 'refused'; readonly at: number; readonly code: number | null }
  /** The ready gateway stopped answering its liveness probe and was killed (a restart follows). */
  | { readonly type: 'unresponsive'; readonly at: number; readonly failures: number | null; readonly unresponsiveForMs: number | null }
  | { readonly type: 'stopping'; readonly at: number }
  | { readonly type: 'drain_finished'; readonly at: number; readonly durationMs: number | null; readonly deadlineHit: boolean }
  /** The gateway's own /readyz started or stopped naming a channel (or agent database…) as failing: reported, never acted on. */
  | { readonly type: 'channel_unhealthy' | 'channel_recovered'; readonly at: number; readonly channel: string }
  /** The state directory's file system ran low on space, or refused a write. */
  | { readonly type: 'disk_low'; readonly at: number; readonly freeBytes: number | null; readonly sizeBytes: number | null; readonly thresholdBytes: number | null }
  | { readonly type: 'disk_read_only'; readonly at: number; readonly code: string | null }
  /** A step to another openclaw release was refused or rolled back: the last good release runs (src/releases/). */
  | { readonly type: 'update_rolled_back'; readonly at: number; readonly stage: UpdateStage; readonly from: string | null; readonly to: string | null };

export const UPDATE_STAGES = ['install', 'engines', 'backup', 'preflight', 'startup', 'restore', 'other'] as const;
export type UpdateStage = (typeof UPDATE_STAGES)[number];
/** A release as npm spells it (the shape release-pin.ts accepts), else dropped. */
const RELEASE = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const release = (value: unknown): string | null => (typeof value === 'string' && value.length <= 64 && RELEASE.test(value) ? value : null);

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const SIGNAL = /^SIG[A-Z0-9]+$/;
const sig = (value: unknown): string | null => (typeof value === 'string' && SIGNAL.test(value) ? value : null);

function cause(reason: unknown): RestartCause {
  switch (reason) {
    case 'restart-request':
    case 'startup-timeout':
    case 'stable-failure':
    case 'port-in-use':
    case 'unresponsive':
    case 'spawn-failed':
    case 'rolled-back':
      return reason;
    default:
      return 'crash'; // 'failure' and anything a future runner names otherwise
  }
}

function outcome(value: unknown): ExitOutcomeLabel {
  return (EXIT_OUTCOMES as readonly unknown[]).includes(value) ? (value as ExitOutcomeLabel) : 'other';
}

/** The event a log record stands for, or null for the records metrics and alerts do not follow. */
export function eventFromRecord(fields: Readonly<Record<string, unknown>>, at: number): OpsEvent | null {
  switch (fields['event']) {
    case 'gateway.spawned':
      return { type: 'spawned', at };
    case 'gateway.ready':
      return { type: 'ready', at, sinceSpawnMs: num(fields['sinceSpawnMs']) };
    case 'gateway.exited': {
      const memory = fields['memory'];
      const oomKills = typeof memory === 'object' && memory !== null ? num((memory as Record<string, unknown>)['oomKill']) : null;
      return {
        type: 'exited',
        at,
        exit: { code: num(fields['code']), signal: sig(fields['signal']), reason: outcome(fields['outcome']), at },
        wasReady: fields['wasReady'] === true,
        oomKills,
      };
    }
    case 'gateway.startup_timeout':
      return { type: 'startup_timeout', at };
    case 'gateway.restart_scheduled':
      return { type: 'restart_scheduled', at, cause: cause(fields['reason']) };
    case 'gateway.crash_loop':
      return { type: 'crash_loop', at, failures: num(fields['failures']), limitBurst: num(fields['limitBurst']), limitIntervalMs: num(fields['limitIntervalMs']) };
    case 'gateway.refused':
      return { type: 'refused', at, code: num(fields['code']) };
    case 'gateway.unresponsive':
      return { type: 'unresponsive', at, failures: num(fields['failures']), unresponsiveForMs: num(fields['unresponsiveForMs']) };
    case 'supervisor.stopping':
      return { type: 'stopping', at };
    case 'supervisor.drain_finished':
      return { type: 'drain_finished', at, durationMs: num(fields['durationMs']), deadlineHit: fields['deadlineHit'] === true };
    case 'gateway.channel_unhealthy':
    case 'gateway.channel_recovered': {
      // The id came from the gateway: kept only in the shape channel-health.ts lets through.
      const channel = isReportableEntry(fields['channel']) ? fields['channel'] : OTHER_ENTRY;
      return { type: fields['event'] === 'gateway.channel_unhealthy' ? 'channel_unhealthy' : 'channel_recovered', at, channel };
    }
    case 'supervisor.state_disk_low':
      return { type: 'disk_low', at, freeBytes: num(fields['freeBytes']), sizeBytes: num(fields['sizeBytes']), thresholdBytes: num(fields['thresholdBytes']) };
    case 'supervisor.state_disk_read_only':
      return { type: 'disk_read_only', at, code: typeof fields['code'] === 'string' && /^E[A-Z]+$/.test(fields['code']) ? fields['code'] : null };
    case 'gateway.update_rolled_back': {
      const stage = (UPDATE_STAGES as readonly unknown[]).includes(fields['stage']) ? (fields['stage'] as UpdateStage) : 'other';
      return { type: 'update_rolled_back', at, stage, from: release(fields['from']), to: release(fields['to']) };
    }
    default:
      return null;
  }
}
