import type { LogLevel } from './settings.js';

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
  readonly drainTimeoutSource: 'setting' | 'railway' | 'default';
  readonly logLevel: LogLevel;
  readonly restart: RestartPolicy;
  readonly trustedProxies: readonly string[];
  readonly allowedOrigins: readonly string[];
  /** The user's gateway command after `--`, or null for the pinned openclaw binary. */
  readonly gatewayCommand: readonly string[] | null;
}

export const DEFAULTS = {
  host: '::',
  publicPort: 8080,
  gatewayPort: 18789,
  startupTimeoutMs: 180_000,
  /** Leaves 3 s of the default drain for in-flight HTTP before the gateway gets SIGTERM. */
  stopTimeoutMs: 5_000,
  /** docker stop waits 10 s before SIGKILL; keep 2 s of it for our own exit. */
  drainTimeoutMs: 8_000,
  drainSafetyMarginMs: 2_000,
  logLevel: 'info' as LogLevel,
  restart: {
    initialDelayMs: 1_000,
    maxDelayMs: 30_000,
    factor: 2,
    stableAfterMs: 60_000,
    limitBurst: 5,
    limitIntervalMs: 300_000,
  } satisfies RestartPolicy,
  healthcheckTimeoutMs: 3_000,
} as const;
