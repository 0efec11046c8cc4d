import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS, type Config, type TokenSource } from './config.js';
import { SETTINGS, invalid, parseInteger, type SettingKey, type SettingValues } from './settings.js';
import { stopTimingsProblem } from './stop-timings.js';
import { DEFAULT_LIVENESS } from './liveness-settings.js';
import { detectPlatform } from '../host/platform.js';
import { DEFAULT_DISK_INTERVAL_MS } from '../host/disk-health.js';
import { UsageError } from '../errors.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export type Invocation =
  | { readonly command: 'run'; readonly config: Config }
  | { readonly command: 'healthcheck'; readonly host: string; readonly publicPort: number; readonly timeoutMs: number }
  | { readonly command: 'help' }
  | { readonly command: 'version' };

type Env = Readonly<Record<string, string | undefined>>;

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/**
 * Turns the environment and the command line into a validated invocation. Pure: no I/O, so every
 * good and bad input is a line in a unit-test table. Flags win over environment variables.
 */
export function resolveConfig(env: Env, argv: readonly string[], home: string = homedir()): Invocation {
  const separator = argv.indexOf('--');
  const ownArgs = separator === -1 ? argv : argv.slice(0, separator);
  const gatewayArgs = separator === -1 ? null : argv.slice(separator + 1);

  const { values: flags, positionals } = parseFlags(ownArgs);
  if (flags['help'] === true) return { command: 'help' };
  if (flags['version'] === true) return { command: 'version' };

  const subcommand = positionals[0] ?? 'run';
  if (positionals.length > 1 || (subcommand !== 'run' && subcommand !== 'healthcheck')) {
    throw new UsageError(
      `unknown command ${JSON.stringify(positionals.join(' '))}: expected "run" (default) or "healthcheck"; the gateway command goes after --`,
    );
  }

  const values = readSettings(env, flags);
  const host = values.host ?? DEFAULTS.host;
  const publicPort = values.publicPort ?? DEFAULTS.publicPort;

  if (subcommand === 'healthcheck') {
    const rawTimeout = flags['timeout-ms'];
    const timeoutMs =
      typeof rawTimeout === 'string'
        ? parseInteger(rawTimeout, '--timeout-ms', 1, 600_000, 'a duration in milliseconds')
        : DEFAULTS.healthcheckTimeoutMs;
    return { command: 'healthcheck', host, publicPort, timeoutMs };
  }
  if (flags['timeout-ms'] !== undefined) {
    throw new UsageError('--timeout-ms belongs to the healthcheck command; the supervisor takes --startup-timeout-ms, --stop-timeout-ms and --drain-timeout-ms');
  }
  if (gatewayArgs !== null && gatewayArgs.length === 0) {
    throw new UsageError('nothing follows --: give the gateway command after it, e.g. -- node dist/index.js gateway, or drop the --');
  }

  if (gatewayArgs !== null && values.openclawVersion !== undefined) {
    throw new UsageError('SUPERVISOR_OPENCLAW_VERSION chooses the openclaw release the supervisor runs, but a gateway command follows --: drop one of the two');
  }

  const gatewayPort = values.gatewayPort ?? DEFAULTS.gatewayPort;
  if (gatewayPort === publicPort) {
    throw new UsageError(
      `SUPERVISOR_GATEWAY_PORT=${gatewayPort} equals PORT=${publicPort}: the gateway's internal port must differ from the public one the supervisor listens on`,
    );
  }

  const restart = {
    initialDelayMs: values.restartDelayMs ?? DEFAULTS.restart.initialDelayMs,
    maxDelayMs: values.restartMaxDelayMs ?? DEFAULTS.restart.maxDelayMs,
    factor: values.restartFactor ?? DEFAULTS.restart.factor,
    stableAfterMs: values.restartStableMs ?? DEFAULTS.restart.stableAfterMs,
    limitBurst: values.restartLimitBurst ?? DEFAULTS.restart.limitBurst,
    limitIntervalMs: values.restartLimitIntervalMs ?? DEFAULTS.restart.limitIntervalMs,
  };
  if (restart.maxDelayMs < restart.initialDelayMs) {
    throw new UsageError(
      `SUPERVISOR_RESTART_MAX_DELAY_MS=${restart.maxDelayMs} is below SUPERVISOR_RESTART_DELAY_MS=${restart.initialDelayMs}: the cap must be at least the first delay`,
    );
  }

  const metricsPort = values.metricsPort ?? null;
  if (metricsPort !== null && (metricsPort === publicPort || metricsPort === gatewayPort)) {
    throw new UsageError(
      `SUPERVISOR_METRICS_PORT=${metricsPort} equals ${metricsPort === publicPort ? `PORT=${publicPort}` : `SUPERVISOR_GATEWAY_PORT=${gatewayPort}`}: metrics are served on a listener of their own, on a port nobody else uses`,
    );
  }
  if (metricsPort === null && values.metricsHost !== undefined) {
    throw new UsageError('SUPERVISOR_METRICS_HOST is set but SUPERVISOR_METRICS_PORT is not: metrics are off unless you choose their port');
  }

  const kubernetes = detectPlatform(env).kind === 'kubernetes';
  const drain = resolveDrainTimeout(env, values.drainTimeoutMs, kubernetes);
  // On Kubernetes, endpoints are removed only after the pod got SIGTERM: keep serving meanwhile.
  const shutdownDelayMs = values.shutdownDelayMs ?? (kubernetes ? DEFAULTS.kubernetesShutdownDelayMs : 0);
  // Unset, the gateway's grace takes 5/8 of what the drain leaves after the delay (5 s of the default
  // 8 s), at most 5 s: a short Railway drain shrinks it instead of refusing to start.
  const stopTimeoutMs = values.stopTimeoutMs ?? Math.min(DEFAULTS.stopTimeoutMs, Math.floor(((drain.ms - shutdownDelayMs) * 5) / 8));
  checkStopTimeline(drain, stopTimeoutMs, shutdownDelayMs);
  const railwayDomain = env['RAILWAY_PUBLIC_DOMAIN']?.trim();

  return {
    command: 'run',
    config: {
      host,
      publicPort,
      gatewayPort,
      token: resolveTokenSource(env, values.tokenFile),
      stateDir: values.stateDir ?? defaultStateDir(env, home),
      startupTimeoutMs: values.startupTimeoutMs ?? DEFAULTS.startupTimeoutMs,
      stopTimeoutMs,
      drainTimeoutMs: drain.ms,
      drainTimeoutSource: drain.source,
      railwayDrainingSeconds: drain.railwaySeconds,
      shutdownDelayMs,
      logLevel: values.logLevel ?? DEFAULTS.logLevel,
      logFields: values.logFields ?? DEFAULTS.logFields,
      restart,
      trustedProxies: values.trustedProxies ?? [],
      health: { channelIntervalMs: values.channelHealthIntervalMs ?? TIME_BOUNDS.channelHealthInterval.ms, diskIntervalMs: values.diskCheckIntervalMs ?? DEFAULT_DISK_INTERVAL_MS },
      loopbackClients: values.loopbackClients ?? 'local',
      allowedOrigins: values.allowedOrigins ?? (railwayDomain ? SETTINGS.allowedOrigins.parse(`https://${railwayDomain}`, 'RAILWAY_PUBLIC_DOMAIN') : []),
      metrics: metricsPort === null ? null : { port: metricsPort, host: values.metricsHost ?? DEFAULTS.metricsHost },
      liveness: values.livenessIntervalMs === 0 ? null : { intervalMs: values.livenessIntervalMs ?? DEFAULT_LIVENESS.intervalMs, timeoutMs: values.livenessTimeoutMs ?? DEFAULT_LIVENESS.timeoutMs, failuresToKill: values.livenessFailures ?? DEFAULT_LIVENESS.failuresToKill },
      alerts: {
        webhook: values.alertWebhook ?? DEFAULTS.alerts.webhook,
        restarts: values.alertRestarts ?? DEFAULTS.alerts.restarts,
        windowMs: values.alertWindowMs ?? DEFAULTS.alerts.windowMs,
      },
      gatewayCommand: gatewayArgs,
      openclawVersion: values.openclawVersion ?? null,
    },
  };
}

function parseFlags(args: readonly string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  if (args.some((arg) => arg === '--token' || arg.startsWith('--token='))) {
    throw new UsageError(
      '--token is not accepted: a token on a command line is visible to every process listing; set OPENCLAW_GATEWAY_TOKEN or --token-file instead',
    );
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
    'timeout-ms': { type: 'string' },
  };
  for (const key of SETTING_KEYS) options[SETTINGS[key].flag] = { type: 'string' };
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /option '([^']+)'/.exec(message)?.[1];
    if (unknown && /Unknown option/.test(message)) {
      throw new UsageError(`unknown flag ${unknown}; run openclaw-supervisor --help for the flags it takes (the gateway command goes after --)`);
    }
    const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(message)?.[1];
    if (missing) throw new UsageError(`${missing.split(',').pop()?.trim()} needs a value, e.g. ${missing.split(',').pop()?.trim()}=VALUE`);
    throw new UsageError(`bad command line: ${message.split('\n')[0]}`);
  }
}

function readSettings(env: Env, flags: Record<string, string | boolean | undefined>): SettingValues {
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const setting = SETTINGS[key];
    const flag = flags[setting.flag];
    if (typeof flag === 'string') values[key] = setting.parse(flag, `--${setting.flag}`);
    else if (env[setting.env] !== undefined && env[setting.env] !== '') values[key] = setting.parse(env[setting.env] ?? '', setting.env);
  }
  return values as SettingValues;
}

function resolveTokenSource(env: Env, tokenFile: string | undefined): TokenSource {
  if (tokenFile !== undefined) return { kind: 'file', path: tokenFile };
  const value = env['OPENCLAW_GATEWAY_TOKEN'];
  if (value === undefined) return { kind: 'generate' };
  // Never echo the value: it is a secret even when it is malformed.
  if (value.trim() === '') {
    throw new UsageError('OPENCLAW_GATEWAY_TOKEN is set but empty: set a token (e.g. openssl rand -hex 32) or unset it to have one generated');
  }
  return { kind: 'env', value: value.trim() };
}

function defaultStateDir(env: Env, home: string): string {
  const volume = env['RAILWAY_VOLUME_MOUNT_PATH']?.trim();
  return volume ? join(volume, '.openclaw') : join(home, '.openclaw');
}

/** Railway SIGKILLs `drainingSeconds` after SIGTERM: finish before that, with a margin for our own exit. */
function resolveDrainTimeout(env: Env, setting: number | undefined, kubernetes: boolean): { ms: number; source: Config['drainTimeoutSource']; railwaySeconds: number | null } {
  const raw = env['RAILWAY_DEPLOYMENT_DRAINING_SECONDS'];
  const seconds = raw === undefined || raw.trim() === '' ? null : parseInteger(raw, 'RAILWAY_DEPLOYMENT_DRAINING_SECONDS', 0, 86_400, 'whole seconds (set drainingSeconds in railway.toml)');
  if (setting !== undefined) return { ms: setting, source: 'setting', railwaySeconds: seconds };
  if (kubernetes) return { ms: DEFAULTS.kubernetesDrainTimeoutMs, source: 'kubernetes', railwaySeconds: seconds };
  if (seconds === null || seconds === 0) return { ms: DEFAULTS.drainTimeoutMs, source: 'default', railwaySeconds: seconds };
  const totalMs = seconds * 1000;
  return { ms: totalMs - Math.min(DEFAULTS.drainSafetyMarginMs, Math.floor(totalMs / 4)), source: 'railway', railwaySeconds: seconds };
}

/** The stop timeline must fit in the drain deadline: refused here, with the numbers, rather than cut short at the first stop. */
function checkStopTimeline(drain: { ms: number; source: Config['drainTimeoutSource'] }, stopTimeoutMs: number, shutdownDelayMs: number): void {
  const problem = stopTimingsProblem({ drainMs: drain.ms, stopMs: stopTimeoutMs, shutdownDelayMs });
  if (problem === null) return;
  const drainName = { railway: 'RAILWAY_DEPLOYMENT_DRAINING_SECONDS less its margin', setting: 'SUPERVISOR_DRAIN_TIMEOUT_MS', kubernetes: "the Kubernetes default drain deadline", default: 'the default drain deadline' }[drain.source];
  throw new UsageError(
    `${problem}: set SUPERVISOR_STOP_TIMEOUT_MS=${stopTimeoutMs}, SUPERVISOR_SHUTDOWN_DELAY_MS=${shutdownDelayMs} and ${drainName} (${drain.ms} ms) so that the delay and the gateway's grace both fit in the drain`,
  );
}
