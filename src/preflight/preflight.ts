import type { Config } from '../config/config.js';
import { loadToken, type LoadedToken } from '../gateway-config/token.js';
import { StartFailure, UsageError } from '../errors.js';
import { describeWriteError, isOutOfSpace } from '../fs/write-file-atomic.js';
import { AuthWatch, configCredentialNote } from '../gateway/auth-check.js';
import { buildGatewayCommand, type GatewayCommand } from '../gateway/gateway-command.js';
import { LOOPBACK_PROXIES, prepareGatewayConfig, type PreparedConfig } from '../gateway-config/gateway-config.js';
import { locateRuntime, resolveOpenclaw, withNodeFirst, type GatewayRuntime } from './locate-gateway.js';
import { readEffectiveConfig } from '../gateway-config/effective-config.js';
import { describeExposure, exposureRecord, sharedClientAddressRecord } from '../security/exposure.js';
import { detectPlatform, readHostFacts, type HostFacts, type Platform } from '../host/platform.js';
import { checkStateDirWritable, readStateMounts, stateNotPersistentReason } from '../host/state-dir.js';
import { emit } from '../log/emit.js';
import type { SupervisorLogger } from '../log/logger.js';
import { publicUrls } from '../host/public-urls.js';
import type { ReaperStatus } from '../host/pid1.js';

type Logger = SupervisorLogger['logger'];

/** What preflight reads and prepares on the host; the defaults are the real ones (tests inject fakes). */
export interface PreflightEffects {
  readonly locateRuntime: () => GatewayRuntime;
  readonly resolveOpenclaw: (file: string, pathEnv: string, cwd: string) => string;
  readonly cwd: () => string;
  readonly readHostFacts: () => HostFacts;
  readonly checkStateDirWritable: typeof checkStateDirWritable;
  readonly prepareGatewayConfig: typeof prepareGatewayConfig;
  readonly readStateMounts: typeof readStateMounts;
}

const REAL_PREFLIGHT_EFFECTS: PreflightEffects = {
  locateRuntime: () => locateRuntime(),
  resolveOpenclaw,
  cwd: () => process.cwd(),
  readHostFacts,
  checkStateDirWritable,
  prepareGatewayConfig,
  readStateMounts,
};

/** Everything the supervisor needs before it listens, found and checked once. */
export interface Prepared {
  readonly command: GatewayCommand;
  readonly runtime: GatewayRuntime;
  readonly token: LoadedToken;
  readonly gatewayConfig: PreparedConfig;
  readonly platform: Platform;
}

/**
 * Everything that can be wrong with the input is found before we listen or spawn: the gateway
 * command, the token (registered with the logger's redaction before anything else is logged), the
 * gateway config. Then the start records: `supervisor.starting`, and what protects the gateway.
 */
export async function preflight(config: Config, log: SupervisorLogger, env: NodeJS.ProcessEnv, facts: { version: string; reaper: ReaperStatus }, effects: Partial<PreflightEffects> = {}): Promise<Prepared> {
  const fx = { ...REAL_PREFLIGHT_EFFECTS, ...effects };
  const { logger } = log;
  const runtime = fx.locateRuntime();
  const command = buildGatewayCommand(config.gatewayCommand, runtime.openclawBinary, config.gatewayPort);
  const childPath = withNodeFirst(runtime.nodeBinDir, env['PATH']);
  fx.resolveOpenclaw(command.file, childPath, fx.cwd());
  const platform = detectPlatform(env, fx.readHostFacts());
  await fx.checkStateDirWritable(config.stateDir, platform.kind, (env['SUPERVISOR_RUN_AS'] ?? '') !== '');
  const token = await loadToken(config.token, config.stateDir);
  log.addSecrets([token.value]);
  const gatewayConfig = await fx.prepareGatewayConfig(config.stateDir, env['OPENCLAW_CONFIG_PATH'] ?? null, {
    trustedProxies: LOOPBACK_PROXIES,
    allowedOrigins: config.allowedOrigins,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error instanceof UsageError) throw error; // already says what is wrong and what to do (e.g. a dangling symlink)
    if (isOutOfSpace(error.code)) {
      throw new StartFailure(`cannot write the gateway config in ${error.path ?? config.stateDir} (${describeWriteError(error.code)}); nothing was left half-written: free space on the state dir's file system and start again`);
    }
    throw new UsageError(`cannot prepare the gateway config in ${error.path ?? config.stateDir} (${error.code ?? error.message}): make it writable for uid ${process.getuid?.() ?? '?'}, or point OPENCLAW_CONFIG_PATH at a file in a writable directory`);
  });
  logStateRepairs(token, gatewayConfig, logger);

  const credentialNote = await configCredentialNote(gatewayConfig.configPath, gatewayConfig.userConfigPath);
  emit(
    logger,
    'supervisor.starting',
    {
      version: facts.version,
      node: process.version,
      reaper: facts.reaper,
      publicAddress: { host: config.host, port: config.publicPort },
      gatewayPort: config.gatewayPort,
      stateDir: config.stateDir,
      tokenOrigin: token.origin,
      tokenFile: token.path,
      drainTimeoutMs: config.drainTimeoutMs,
      drainTimeoutSource: config.drainTimeoutSource,
      stopTimeoutMs: config.stopTimeoutMs,
      shutdownDelayMs: config.shutdownDelayMs,
      startupTimeoutMs: config.startupTimeoutMs,
      restart: config.restart,
      trustedProxies: config.trustedProxies,
      allowedOrigins: config.allowedOrigins,
    },
    `openclaw-supervisor ${facts.version} starting: open ${publicUrls(config.host, config.publicPort, env).join(' or ')} once the gateway is ready; token ${describeToken(token)}${credentialNote === null ? '' : ` (${credentialNote})`}`,
  );
  if (facts.reaper === 'no-tini' || facts.reaper === 'no-execve') {
    emit(logger, 'supervisor.no_reaper', { reason: facts.reaper }, 'running as PID 1 without tini (install tini, use Node >= 22.15): orphaned processes will not be reaped');
  }
  warnAboutRailwayDraining(platform, config, logger);
  await warnIfStateNotPersistent(platform, config.stateDir, env, logger, fx.readStateMounts);
  await logExposure(config, platform, token.origin, gatewayConfig.configPath, logger);
  logConfigMode(gatewayConfig, logger);
  return { command, runtime, token, gatewayConfig, platform };
}

/** The check of which token the gateway really enforces, after each ready and each auth reload. */
export function authWatchFor(config: Config, prepared: Prepared, logger: Logger, selfCommand: string): AuthWatch {
  return new AuthWatch({
    logger,
    gatewayPort: config.gatewayPort,
    token: prepared.token.value,
    tokenWhere: prepared.token.path === null ? 'in OPENCLAW_GATEWAY_TOKEN' : `in ${prepared.token.path}`,
    configPath: prepared.gatewayConfig.configPath,
    userConfigPath: prepared.gatewayConfig.userConfigPath,
    selfCommand,
  });
}

function logConfigMode(prepared: PreparedConfig, logger: Logger): void {
  const fields = { mode: prepared.mode, configPath: prepared.configPath, userConfigPath: prepared.userConfigPath };
  if (prepared.mode === 'overlay') {
    emit(
      logger,
      'gateway.config_prepared',
      fields,
      `${prepared.userConfigPath} is JSON5 or read-only, so the supervisor adds gateway.trustedProxies through ${prepared.configPath}, which includes it; the gateway will refuse config edits from the Control UI: edit ${prepared.userConfigPath} directly`,
      'warn',
    );
  } else {
    emit(logger, 'gateway.config_prepared', fields, `gateway config ${prepared.mode}: ${prepared.configPath}`, 'info');
  }
}

/**
 * One `supervisor.state_repaired` record when an older version's interrupted write (a full disk at
 * the first start) left an empty token file or config that this start replaced: never silent.
 */
function logStateRepairs(token: LoadedToken, prepared: PreparedConfig, logger: Logger): void {
  const files = [
    ...(token.replacedEmptyFile && token.path !== null ? [{ path: token.path, was: 'empty', now: 'a new generated token' }] : []),
    ...(prepared.replacedEmptyFile ? [{ path: prepared.userConfigPath, was: 'empty', now: "a new config with the supervisor's entries" }] : []),
  ];
  if (files.length === 0) return;
  emit(
    logger,
    'supervisor.state_repaired',
    { files },
    `replaced ${files.map((file) => `the empty ${file.path} with ${file.now}`).join(' and ')}: an earlier start was cut short while writing it (a full disk?), and an empty file protects nothing and starts nothing`,
  );
}

function describeToken(token: { origin: string; path: string | null }): string {
  if (token.origin === 'generated') return `generated and stored in ${token.path}`;
  if (token.origin === 'stored') return `read from ${token.path} (generated earlier)`;
  return token.origin === 'file' ? `read from ${token.path}` : 'from OPENCLAW_GATEWAY_TOKEN';
}

/** One `supervisor.exposure` record (what protects the gateway) and, behind an edge nobody trusts, one `supervisor.shared_client_address` warning. */
async function logExposure(config: Config, platform: Platform, tokenOrigin: string, configPath: string, logger: Logger): Promise<void> {
  const effective = await readEffectiveConfig(configPath);
  const exposure = describeExposure({
    platform,
    host: config.host,
    port: config.publicPort,
    trustedProxies: config.trustedProxies,
    loopbackClients: config.loopbackClients,
    tokenOrigin,
    effectiveConfig: effective.config,
    configError: effective.error,
  });
  const record = exposureRecord(exposure);
  emit(logger, 'supervisor.exposure', record.fields, record.message);
  const shared = sharedClientAddressRecord(exposure);
  if (shared !== null) emit(logger, 'supervisor.shared_client_address', shared.fields, shared.message);
}

/** State written where the next deploy will not find it: said once at start, never a refusal (a throwaway run is legitimate). */
async function warnIfStateNotPersistent(platform: Platform, stateDir: string, env: NodeJS.ProcessEnv, logger: Logger, readMounts: typeof readStateMounts): Promise<void> {
  const { resolved, mounts } = await readMounts(stateDir);
  const railwayVolume = env['RAILWAY_VOLUME_MOUNT_PATH']?.trim() || null;
  const reason = stateNotPersistentReason({ platform: platform.kind, stateDir: resolved, railwayVolume, mounts });
  if (reason === null) return;
  const fix = platform.kind === 'railway'
    ? railwayVolume === null ? 'attach a volume to the service (any mount path; the state dir then defaults to $RAILWAY_VOLUME_MOUNT_PATH/.openclaw)' : `unset OPENCLAW_STATE_DIR, or point it inside ${railwayVolume}`
    : `mount a volume at ${stateDir}`;
  emit(
    logger,
    'supervisor.state_not_persistent',
    { stateDir, resolvedStateDir: resolved, platform: platform.kind, reason },
    `the gateway's state (token, config, paired devices, sessions) in ${stateDir} will be lost at the next deploy: ${reason}; ${fix}`,
  );
}

function warnAboutRailwayDraining(platform: Platform, config: Config, logger: Logger): void {
  const seconds = config.railwayDrainingSeconds;
  if (platform.kind === 'railway' && (seconds === null || seconds === 0)) {
    emit(
      logger,
      'supervisor.no_draining_time',
      { drainingSeconds: seconds },
      'Railway will SIGKILL this container right after SIGTERM (drainingSeconds is 0): set drainingSeconds in railway.toml (e.g. 30) or RAILWAY_DEPLOYMENT_DRAINING_SECONDS so that sessions can drain',
    );
  }
}
