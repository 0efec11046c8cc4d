/**
 * The supervisor's stable events (docs/logs.md, "Stable events"): every name, the levels it is
 * written at and the type of its fields. The one place a name is spelled: `emit` (emit.ts) writes an
 * event as a pino record `{ event: <name>, ...fields }` with its message, and metrics and alerts
 * subscribe to the same typed events, so neither can name an event the other does not know.
 */
import type { ReaperStatus } from '../host/pid1.js';
import type { Config } from '../config/config.js';
import type { DrainCounts } from '../front-door/front-door.js';
import type { ExitInfo } from '../gateway/lifecycle.js';
import type { ProbeError } from '../gateway/liveness.js';
import type { ExitOutcome, RestartCause } from '../gateway/restart-policy.js';
import type { MemoryEvidence } from '../host/evidence.js';
import type { Exposure } from '../security/exposure.js';
import type { PlatformKind } from '../host/platform.js';
import type { StateDirRepair } from '../host/state-dir.js';
import type { UpdateStage } from '../releases/release-step.js';
import type { Diagnosis, SignalEvidence } from '../supervisor/diagnose-signal.js';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** What the liveness watch knows when it gives up on the gateway, or sees it fail (liveness.ts killEvidence). */
export interface LivenessEvidence {
  readonly probe: 'GET /healthz';
  readonly failures: number;
  readonly lastError: ProbeError | null;
  readonly unresponsiveForMs: number;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly slowestOkMs: number;
}

/** What `gateway.ready` adds once the token in effect is known (run-supervisor.ts); empty when that check failed. */
export interface GatewayReadyDetails {
  readonly urls?: readonly string[];
  readonly tokenInEffect?: string;
  readonly tokenCommand?: string;
}

/** The gateway's answer to `restart-handoff consume` (release-manager.ts): its own words, kept as it gave them. */
export interface RestartHandoff {
  readonly status: unknown;
  readonly reason: unknown;
  readonly source?: unknown;
  readonly restartKind?: unknown;
}

interface DiskFacts {
  readonly stateDir: string;
  readonly freeBytes: number;
  readonly sizeBytes: number;
  readonly thresholdBytes: number;
}

type Argv = readonly string[];

/** The fields of each event, as written after `event` (in this order at the call site). */
export interface EventFields {
  // Start
  'supervisor.starting': {
    readonly version: string;
    readonly node: string;
    readonly reaper: ReaperStatus;
    readonly publicAddress: { readonly host: string; readonly port: number };
    readonly gatewayPort: number;
    readonly stateDir: string;
    readonly tokenOrigin: string;
    readonly tokenFile: string | null;
    readonly drainTimeoutMs: number;
    readonly drainTimeoutSource: Config['drainTimeoutSource'];
    readonly stopTimeoutMs: number;
    readonly shutdownDelayMs: number;
    readonly startupTimeoutMs: number;
    readonly restart: Config['restart'];
    readonly trustedProxies: Config['trustedProxies'];
    readonly allowedOrigins: Config['allowedOrigins'];
  };
  'supervisor.exposure': Exposure;
  'supervisor.shared_client_address': { readonly platform: PlatformKind; readonly setting: 'SUPERVISOR_TRUSTED_PROXIES'; readonly findItIn: 'front_door.forwarded_headers_replaced' };
  'supervisor.privileges_dropped': StateDirRepair & { readonly user: string; readonly uid: number; readonly gid: number; readonly stateDir: string };
  'supervisor.state_repaired': { readonly files: ReadonlyArray<{ readonly path: string; readonly was: string; readonly now: string }> };
  'supervisor.state_not_persistent': { readonly stateDir: string; readonly resolvedStateDir: string; readonly platform: PlatformKind; readonly reason: string };
  'supervisor.no_draining_time': { readonly drainingSeconds: number | null };
  'supervisor.no_reaper': { readonly reason: ReaperStatus };
  'supervisor.no_ipv6': Record<string, never>;
  'supervisor.operations': {
    readonly metrics: { readonly address: string; readonly port: number; readonly path: string } | null;
    readonly alerts: { readonly webhookHost: string; readonly restarts: number; readonly windowMs: number } | null;
  };
  'supervisor.listening': { readonly address: string; readonly port: number; readonly sinceStartMs: number };
  'gateway.config_prepared': { readonly mode: 'created' | 'updated' | 'unchanged' | 'overlay'; readonly configPath: string; readonly userConfigPath: string };
  'gateway.heap_sized': { readonly maxOldSpaceSizeMiB: number; readonly memoryLimitBytes: number };

  // The gateway's life
  'gateway.spawned': { readonly gatewayPid: number; readonly command: Argv; readonly spawns: number };
  /** A line the gateway printed; `line` is its text as it came (redacted on the way out like every record). */
  'gateway.log': { readonly source: 'gateway'; readonly stream: 'stdout' | 'stderr'; readonly line: string };
  'gateway.ready': { readonly gatewayPid: number; readonly sinceSpawnMs: number } & GatewayReadyDetails;
  'gateway.exited': {
    readonly gatewayPid: number;
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly outcome: ExitOutcome;
    readonly wasReady: boolean;
    readonly uptimeMs: number;
    /** Only after a SIGKILL the supervisor did not send: the cgroup's counters say whether it was the OOM killer. */
    readonly memory?: MemoryEvidence | null;
    readonly stderrTail?: readonly string[];
  };
  'gateway.restart_scheduled':
    | { readonly reason: RestartCause; readonly delayMs: number }
    | {
        readonly reason: RestartCause;
        readonly attempt: number;
        readonly delayMs: number;
        readonly delayMinMs: number | undefined;
        readonly delayMaxMs: number | undefined;
        readonly recentFailures: number;
        readonly limitBurst: number;
      };
  'gateway.startup_timeout': { readonly gatewayPid: number; readonly timeoutMs: number; readonly stderrTail: readonly string[] };
  'gateway.port_in_use': { readonly gatewayPort: number };
  'gateway.readiness_foreign': { readonly gatewayPort: number };
  'gateway.refused': { readonly code: number | null; readonly stderrTail: readonly string[] };
  'gateway.killed': { readonly gatewayPid: number; readonly reason: string; readonly graceMs: number };
  'gateway.group_leftovers': { readonly gatewayPid: number; readonly pids: readonly number[] };
  'gateway.crash_loop': {
    readonly failures: number;
    readonly limitBurst: number;
    readonly limitIntervalMs: number;
    readonly lastExit: ExitInfo | null;
  };
  'gateway.foreign_signal': { readonly signal: string; readonly gatewayPid: number | null };
  'gateway.spawn_failed': { readonly error: string; readonly code: string | null; readonly openFds: number | null; readonly fdLimit: number | null; readonly command: Argv };
  'gateway.liveness_failing': { readonly gatewayPid: number } & LivenessEvidence;
  'gateway.liveness_recovered': { readonly gatewayPid: number };
  'gateway.unresponsive': { readonly gatewayPid: number } & LivenessEvidence;
  /** `channel` and `failing` are the gateway's own ids, only in the shape channel-health.ts lets through (else `_other`). */
  'gateway.channel_unhealthy': { readonly channel: string; readonly failing: readonly string[] };
  'gateway.channel_recovered': { readonly channel: string; readonly failing: readonly string[] };

  // Releases
  'gateway.release': { readonly version: string; readonly source: 'image' | 'store'; readonly image: string | null; readonly pinned: string | null; readonly next: string | null };
  'gateway.release_unresolved': { readonly reason: string };
  'gateway.release_installed': { readonly version: string; readonly durationMs: number; readonly path: string };
  'gateway.backup_created': { readonly path: string; readonly from: string | null; readonly to: string; readonly sizeBytes: number; readonly durationMs: number };
  'gateway.release_preflight': { readonly to: string; readonly status: string; readonly foundVersion: number | null; readonly targetVersion: number | null };
  'gateway.update_accepted': { readonly from: string | null; readonly to: string; readonly backup: string | null; readonly outageMs: number | null; readonly removedReleases: readonly string[] };
  /** `from` and `to` are versions as the store and src/config/release-pin.ts accept them; `stage` says what refused the step. */
  'gateway.update_rolled_back': { readonly from: string | null; readonly to: string; readonly stage: UpdateStage; readonly reason: string; readonly restoredBackup: string | null };
  'gateway.update_refused_by_gateway': { readonly command: string };
  'gateway.restart_handoff': { readonly gatewayPid: number } & RestartHandoff;
  'supervisor.control_unavailable': { readonly path: string; readonly code: string | null };

  // Pairing and the token
  'gateway.pairing_required':
    | {
        readonly requestId: string;
        readonly deviceId: string | null;
        readonly clientAddress: string | null;
        readonly platform: string | null;
        readonly clientId: string | null;
        readonly clientMode: string | null;
        readonly displayName: string | null;
        readonly origin: string | null;
        readonly role: string | null;
        readonly isRepair: boolean;
        readonly firstSeen: string | null;
        readonly approveCommand: string | null;
        readonly listCommand: string;
        readonly suppressedForDevice?: number;
      }
    | { readonly requestId: null; readonly approveCommand: null; readonly listCommand: string; readonly listError: string };
  'gateway.token_overridden': {
    readonly trigger: string;
    readonly enforced: string;
    readonly authMode: string | null;
    readonly tokenSource: string;
    readonly supervisorToken: string;
    readonly configPath: string;
    readonly backCommand: string;
  };
  'gateway.token_restored': { readonly trigger: string; readonly tokenWhere: string };

  // The front door
  'front_door.upstream_error': { readonly kind: 'http' | 'websocket'; readonly code: string | null; readonly error: string };
  'front_door.upstream_recovered': { readonly failedRequests: number; readonly durationMs: number };
  'front_door.forwarded_headers_replaced': { readonly peer: string };
  'front_door.attribution_refused': { readonly peer: string; readonly reason: string };
  'front_door.connections_capped': { readonly maxConnections: number; readonly dropped: number };

  // The state disk
  'supervisor.state_disk_low': DiskFacts;
  'supervisor.state_disk_space_recovered': DiskFacts;
  'supervisor.state_disk_read_only': { readonly stateDir: string; readonly code: string | null };
  'supervisor.state_disk_writable_again': { readonly stateDir: string };

  // Memory
  'supervisor.memory_released': { readonly beforeBytes: number; readonly afterBytes: number; readonly aboveFloorBytes: number; readonly ms: number };

  // Alerts
  'ops.alert': { readonly kind: string; readonly severity: 'critical' | 'warning'; readonly facts: Readonly<Record<string, number | string | null>> };
  'ops.alert_sent': { readonly kind: string; readonly webhookHost: string; readonly status: number; readonly attempts: number };
  'ops.alert_failed': { readonly kind: string; readonly webhookHost: string; readonly attempts: number; readonly reason: string };
  'ops.alerts_abandoned': { readonly abandoned: number; readonly boundMs: number };
  'ops.alerts_spooled': { readonly alerts: number; readonly kinds: readonly string[]; readonly file: string };
  'ops.alert_spool_sent': { readonly alerts: number; readonly dropped: number; readonly file: string };
  'ops.alert_spool_failed': { readonly alerts: number; readonly code: string };

  // The stop
  'supervisor.signal': (Diagnosis & { readonly evidence: SignalEvidence }) | { readonly signal: NodeJS.Signals; readonly repeated: true };
  'supervisor.stopping': { readonly signal: NodeJS.Signals; readonly drainTimeoutMs: number };
  'supervisor.shutdown_delay': { readonly delayMs: number };
  'supervisor.drain_started': { readonly deadlineMs: number; readonly shutdownDelayMs: number; readonly inflightRequests: number; readonly openWebSockets: number };
  'supervisor.drain_finished': { readonly durationMs: number; readonly deadlineHit: boolean } & DrainCounts;
  'supervisor.internal_error': { readonly error: string };
  'supervisor.exited': { readonly code: number; readonly reason: string; readonly uptimeMs: number };
}

export type EventName = keyof EventFields;

/**
 * The levels each event is written at: one, or the few its call site chooses among (a requested
 * exit is news, a crash an error). Metrics and alerts get every event whatever its level.
 */
export const EVENT_LEVELS = {
  'supervisor.starting': ['info'],
  'supervisor.exposure': ['info'],
  'supervisor.shared_client_address': ['warn'],
  'supervisor.privileges_dropped': ['info', 'warn'],
  'supervisor.state_repaired': ['warn'],
  'supervisor.state_not_persistent': ['warn'],
  'supervisor.no_draining_time': ['warn'],
  'supervisor.no_reaper': ['warn'],
  'supervisor.no_ipv6': ['warn'],
  'supervisor.operations': ['info'],
  'supervisor.listening': ['info'],
  'gateway.config_prepared': ['info', 'warn'],
  'gateway.heap_sized': ['info'],
  'gateway.spawned': ['info'],
  'gateway.log': ['debug', 'info', 'warn'],
  'gateway.ready': ['info'],
  'gateway.exited': ['info', 'error'],
  'gateway.restart_scheduled': ['info', 'warn'],
  'gateway.startup_timeout': ['error'],
  'gateway.port_in_use': ['error'],
  'gateway.readiness_foreign': ['warn'],
  'gateway.refused': ['error'],
  'gateway.killed': ['warn'],
  'gateway.group_leftovers': ['warn'],
  'gateway.crash_loop': ['error'],
  'gateway.foreign_signal': ['warn'],
  'gateway.spawn_failed': ['error'],
  'gateway.liveness_failing': ['warn'],
  'gateway.liveness_recovered': ['info'],
  'gateway.unresponsive': ['error'],
  'gateway.channel_unhealthy': ['warn'],
  'gateway.channel_recovered': ['info'],
  'gateway.release': ['info'],
  'gateway.release_unresolved': ['warn'],
  'gateway.release_installed': ['info'],
  'gateway.backup_created': ['info'],
  'gateway.release_preflight': ['info'],
  'gateway.update_accepted': ['info', 'warn'],
  'gateway.update_rolled_back': ['error'],
  'gateway.update_refused_by_gateway': ['warn'],
  'gateway.restart_handoff': ['info'],
  'supervisor.control_unavailable': ['warn'],
  'gateway.pairing_required': ['warn'],
  'gateway.token_overridden': ['warn'],
  'gateway.token_restored': ['info'],
  'front_door.upstream_error': ['error'],
  'front_door.upstream_recovered': ['info'],
  'front_door.forwarded_headers_replaced': ['info'],
  'front_door.attribution_refused': ['warn'],
  'front_door.connections_capped': ['warn'],
  'supervisor.state_disk_low': ['warn'],
  'supervisor.state_disk_space_recovered': ['info'],
  'supervisor.state_disk_read_only': ['error'],
  'supervisor.state_disk_writable_again': ['info'],
  'supervisor.memory_released': ['info'],
  'ops.alert': ['warn'],
  'ops.alert_sent': ['info'],
  'ops.alert_failed': ['warn'],
  'ops.alerts_abandoned': ['warn'],
  'ops.alerts_spooled': ['warn'],
  'ops.alert_spool_sent': ['info'],
  'ops.alert_spool_failed': ['warn'],
  'supervisor.signal': ['warn'],
  'supervisor.stopping': ['info'],
  'supervisor.shutdown_delay': ['info'],
  'supervisor.drain_started': ['info'],
  'supervisor.drain_finished': ['info'],
  'supervisor.internal_error': ['fatal'],
  'supervisor.exited': ['info'],
  // `satisfies`: a name of EventFields without its levels, or levels for a name it lacks, is a type error.
} as const satisfies { readonly [N in EventName]: readonly [Level, ...Level[]] };

export const EVENT_NAMES = Object.keys(EVENT_LEVELS) as readonly EventName[];

export type LevelOf<N extends EventName> = (typeof EVENT_LEVELS)[N][number];

/** One event as a subscriber gets it: its name and its fields, as written (before redaction). */
export type SupervisorEvent = { [N in EventName]: { readonly name: N; readonly fields: EventFields[N] } }[EventName];

/** The event named `N`, narrowed. */
export type EventOf<N extends EventName> = Extract<SupervisorEvent, { readonly name: N }>;
