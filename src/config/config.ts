import type { LivenessSettings } from './liveness-settings.js';
import type { ReleasePin } from './release-pin.js';
import type { LogLevel } from './settings.js';
import { ALL_INTERFACES } from '../host/loopback.js';
import { TIME_BOUNDS as T } from '../time-bounds.js';

export interface RestartPolicy {
  /** First delay after a failure; p-retry jitters it by a random factor of 1-2. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** A gateway that stayed ready this long starts the backoff from scratch when it next fails. */
  readonly stableAfterMs: number;
  /** systemd StartLimitBurst/StartLimitIntervalSec: this many failures within the interval is a crash loop. */
  readonly limitBurst: number;
  readonly limitIntervalMs: number;
}

export type TokenSource =
  | { readonly kind: 'env'; readonly value: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'generate' };

export interface AlertSettings {
  /** Incoming-webhook URL (a secret: never logged), or null: no alerts are sent. */
  readonly webhook: string | null;
  /** Restarts after failures within `windowMs` that make an alert. */
  readonly restarts: number;
  readonly windowMs: number;
}

/** The resolved configuration: every field present, validated, no I/O needed to build it. */
export interface Config {
  readonly host: string;
  readonly publicPort: number;
  readonly gatewayPort: number;
  readonly token: TokenSource;
  readonly stateDir: string;
  readonly startupTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly drainTimeoutSource: 'setting' | 'railway' | 'kubernetes' | 'default';
  /** RAILWAY_DEPLOYMENT_DRAINING_SECONDS, parsed here once for the drain, the warning and the diagnosis; null when unset. */
  readonly railwayDrainingSeconds: number | null;
  /**
   * After a stop signal, how long /readyz says 503 while traffic is still served, before the drain
   * closes the listener (Kubernetes endpoint propagation); counted inside the drain deadline.
   */
  readonly shutdownDelayMs: number;
  readonly logLevel: LogLevel;
  /** SUPERVISOR_LOG_FIELDS: on a terminal, every record with its fields (else one calm line per record, src/log/terminal.ts). */
  readonly logFields: boolean;
  readonly restart: RestartPolicy;
  readonly trustedProxies: readonly string[];
  /** SUPERVISOR_LOOPBACK_CLIENTS: whether a loopback peer without forwarding headers is local, or a tunnel's remote client. */
  readonly loopbackClients: 'local' | 'remote';
  readonly allowedOrigins: readonly string[];
  /** Pauses between reads of the gateway's /readyz (channel health) and of the state disk; 0: off. */
  readonly health: { readonly channelIntervalMs: number; readonly diskIntervalMs: number };
  /** Prometheus /metrics on a listener of its own; null: off (the default). */
  readonly metrics: { readonly port: number; readonly host: string } | null;
  readonly alerts: AlertSettings;
  /** Liveness probing of the ready gateway (src/gateway/liveness.ts); null: off. */
  readonly liveness: LivenessSettings | null;
  /** The user's gateway command after `--`, or null for the pinned openclaw binary. */
  readonly gatewayCommand: readonly string[] | null;
  /** SUPERVISOR_OPENCLAW_VERSION: the release to run (src/releases/); null: the newer of the image's and the last good one. */
  readonly openclawVersion: ReleasePin | null;
}

export const DEFAULTS = {
  host: ALL_INTERFACES,
  publicPort: 8080,
  gatewayPort: 18789,
  startupTimeoutMs: T.startupTimeout.ms,
  /** Leaves 3 s of the default drain for in-flight HTTP before the gateway gets SIGTERM. */
  stopTimeoutMs: T.stopTimeout.ms,
  /** docker stop waits 10 s before SIGKILL; keep 2 s of it for our own exit. */
  drainTimeoutMs: T.drainTimeout.ms,
  drainSafetyMarginMs: T.drainSafetyMargin.ms,
  /** Endpoint removal reaches kube-proxy and ingresses within a few seconds (lightship's default shutdownDelay is 5 s). */
  kubernetesShutdownDelayMs: T.kubernetesShutdownDelay.ms,
  /** The pod's default terminationGracePeriodSeconds is 30 s; keep 2 s of it for our own exit. */
  kubernetesDrainTimeoutMs: T.kubernetesDrainTimeout.ms,
  logLevel: 'info' as LogLevel,
  logFields: false,
  restart: {
    initialDelayMs: T.restartDelay.ms,
    maxDelayMs: T.restartMaxDelay.ms,
    factor: 2,
    stableAfterMs: T.restartStable.ms,
    limitBurst: 5,
    limitIntervalMs: T.restartLimitInterval.ms,
  } satisfies RestartPolicy,
  healthcheckTimeoutMs: T.healthcheckTimeout.ms,
  metricsHost: ALL_INTERFACES,
  alerts: { webhook: null, restarts: 3, windowMs: T.alertWindow.ms } satisfies AlertSettings,
} as const;
