import { onExit } from 'signal-exit';
import type { Config } from '../config/config.js';
import { loadToken } from '../config/load-token.js';
import { UsageError } from '../config/usage-error.js';
import { FrontDoor } from '../front-door/front-door.js';
import { buildChildEnv } from '../gateway/child-env.js';
import { buildGatewayCommand } from '../gateway/gateway-command.js';
import { LOOPBACK_PROXIES, prepareGatewayConfig, type PreparedConfig } from '../gateway/gateway-config.js';
import { GatewayRunner } from '../gateway/gateway-runner.js';
import { restartsOf } from '../gateway/lifecycle.js';
import { CommandNotFound, locateRuntime, resolveExecutable } from '../gateway/locate-gateway.js';
import { readEffectiveConfig } from '../host/effective-config.js';
import { describeExposure, exposureRecord, sharedClientAddressRecord } from '../host/exposure.js';
import { detectPlatform, readHostFacts, type Platform } from '../host/platform.js';
import type { SupervisorLogger } from '../log/logger.js';
import { diagnoseSignal } from '../shutdown/diagnose-signal.js';
import { readMemoryEvidence, readRailwayEvidence } from '../shutdown/gather-evidence.js';
import { gracefulStop } from '../shutdown/graceful-stop.js';
import type { ReaperStatus } from './pid1.js';
import { PairingNotices } from '../gateway/pairing-notice.js';
import { selfCommand } from './self-command.js';
import { AuthWatch, configCredentialNote, isAuthReloadLine } from '../gateway/auth-check.js';
import { publicUrls } from './public-urls.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof STOP_SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Runs until stopped; resolves with the process exit code. */
export async function runSupervisor(config: Config, log: SupervisorLogger, reaper: ReaperStatus, version: string): Promise<number> {
  const { logger } = log;
  const startedAt = Date.now();
  const env = process.env;

  // Everything that can be wrong with the input is found before we listen or spawn.
  const runtime = locateRuntime();
  const command = buildGatewayCommand(config.gatewayCommand, runtime.openclawBinary, config.gatewayPort);
  const childPath = runtime.nodeBinDir ? `${runtime.nodeBinDir}:${env['PATH'] ?? ''}` : (env['PATH'] ?? '');
  const resolved = resolveExecutable(command.file, childPath, process.cwd());
  if (resolved.found === null) throw new CommandNotFound(command.file, resolved.tried);
  const token = await loadToken(config.token, config.stateDir);
  log.addSecrets([token.value]);
  const gatewayConfig = await prepareGatewayConfig(config.stateDir, env['OPENCLAW_CONFIG_PATH'] ?? null, {
    trustedProxies: [...LOOPBACK_PROXIES, ...config.trustedProxies],
    allowedOrigins: config.allowedOrigins,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error instanceof UsageError) throw error; // already says what is wrong and what to do (e.g. a dangling symlink)
    throw new UsageError(`cannot prepare the gateway config in ${error.path ?? config.stateDir} (${error.code ?? error.message}): make OPENCLAW_STATE_DIR (${config.stateDir}) writable, or point OPENCLAW_CONFIG_PATH at a readable file`);
  });

  const credentialNote = await configCredentialNote(gatewayConfig.configPath, gatewayConfig.userConfigPath);
  logger.info(
    {
      event: 'supervisor.starting',
      version,
      node: process.version,
      reaper,
      publicAddress: { host: config.host, port: config.publicPort },
      gatewayPort: config.gatewayPort,
      stateDir: config.stateDir,
      tokenOrigin: token.origin,
      tokenFile: token.path,
      drainTimeoutMs: config.drainTimeoutMs,
      drainTimeoutSource: config.drainTimeoutSource,
      stopTimeoutMs: config.stopTimeoutMs,
      startupTimeoutMs: config.startupTimeoutMs,
      restart: config.restart,
      trustedProxies: config.trustedProxies,
      allowedOrigins: config.allowedOrigins,
    },
    `openclaw-supervisor ${version} starting: open ${publicUrls(config.host, config.publicPort, env).join(' or ')} once the gateway is ready; token ${describeToken(token)}${credentialNote === null ? '' : ` (${credentialNote})`}`,
  );
  if (reaper === 'no-tini' || reaper === 'no-execve') {
    logger.warn({ event: 'supervisor.no_reaper', reason: reaper }, 'running as PID 1 without tini (install tini, use Node >= 22.15): orphaned processes will not be reaped');
  }
  const platform = detectPlatform(env, readHostFacts());
  warnAboutRailwayDraining(platform, env, logger);
  await logExposure(config, platform, token.origin, gatewayConfig.configPath, logger);

  logConfigMode(gatewayConfig, logger);
  const pairingNotices = new PairingNotices({ logger, selfCommand: selfCommand() });
  const authWatch = new AuthWatch({
    logger,
    gatewayPort: config.gatewayPort,
    token: token.value,
    tokenWhere: token.path === null ? 'in OPENCLAW_GATEWAY_TOKEN' : `in ${token.path}`,
    configPath: gatewayConfig.configPath,
    userConfigPath: gatewayConfig.userConfigPath,
    selfCommand: selfCommand(),
  });
  const runner = new GatewayRunner({
    command,
    env: buildChildEnv({
      parentEnv: env,
      token: token.value,
      stateDir: config.stateDir,
      configPath: gatewayConfig.configPath,
      includeRoots: gatewayConfig.includeRoots,
      nodeBinDir: runtime.nodeBinDir,
    }),
    gatewayPort: config.gatewayPort,
    startupTimeoutMs: config.startupTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    restart: config.restart,
    logger,
    onGatewayLine: (line) => {
      pairingNotices.onLine(line);
      if (isAuthReloadLine(line)) void authWatch.check('reload');
    },
    readyDetails: async () => {
      const { tokenInEffect } = await authWatch.check('ready');
      const urls = publicUrls(config.host, config.publicPort, env);
      return { fields: { urls, tokenInEffect }, message: `: open ${urls.join(' or ')}; token: ${tokenInEffect}` };
    },
  });
  const frontDoor = new FrontDoor({
    host: config.host,
    port: config.publicPort,
    gatewayPort: config.gatewayPort,
    trustedProxies: config.trustedProxies,
    logger,
    gatewayState: () => runner.lifecycle.state,
  });
  try {
    const bound = await frontDoor.listen();
    logger.info({ event: 'supervisor.listening', address: bound.address, port: bound.port, sinceStartMs: Date.now() - startedAt }, `front door listening on [${bound.address}]:${bound.port}`);
    if (config.host === '::' && bound.address === '0.0.0.0') logger.warn({ event: 'supervisor.no_ipv6' }, 'this host has no IPv6: listening on IPv4 only (0.0.0.0)');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot listen on ${config.host}:${config.publicPort} (${code}): ${code === 'EADDRINUSE' ? 'another process uses PORT; pick another PORT' : 'check HOST and PORT'}`, 1);
  }

  // Last chance: whatever ends this process, the gateway's group must not outlive it.
  onExit(() => runner.kill(), { alwaysLast: true });

  return new Promise<number>((resolve) => {
    let stopping: Promise<void> | null = null;
    let finished = false;
    const finish = (code: number, reason: string): void => {
      if (finished) return;
      finished = true;
      logger.info({ event: 'supervisor.exited', code, reason, uptimeMs: Date.now() - startedAt }, `exiting with code ${code} (${reason})`);
      resolve(code);
    };

    const onSignal = (signal: (typeof STOP_SIGNALS)[number]): void => {
      if (stopping !== null) {
        if (signal === 'SIGHUP') return;
        logger.warn({ event: 'supervisor.signal', signal, repeated: true }, `second ${signal}: stopping now`);
        runner.kill();
        void frontDoor.cutRemaining().finally(() => finish(128 + SIGNAL_NUMBERS[signal], `second ${signal}`));
        return;
      }
      const lifecycle = runner.lifecycle;
      const now = Date.now();
      const evidence = {
        signal,
        uptimeMs: now - startedAt,
        gatewayState: lifecycle.state,
        everReady: lifecycle.everReady,
        msSinceLastReady: lifecycle.state === 'ready' ? 0 : lifecycle.lastReadyAt === null ? null : now - lifecycle.lastReadyAt,
        restarts: restartsOf(lifecycle),
        recentFailures: runner.recentFailures(now),
        lastExit: lifecycle.lastExit && { code: lifecycle.lastExit.code, signal: lifecycle.lastExit.signal },
        fromTerminal: signal === 'SIGINT' && process.stdin.isTTY === true,
        railway: readRailwayEvidence(env),
        memory: readMemoryEvidence(),
      };
      const diagnosis = diagnoseSignal(evidence);
      logger.warn({ event: 'supervisor.signal', ...diagnosis, evidence }, `${signal} received; probable cause: ${diagnosis.probableCause}: ${diagnosis.explanation}`);
      logger.info({ event: 'supervisor.stopping', signal, drainTimeoutMs: config.drainTimeoutMs }, 'stopping gracefully');
      stopping = gracefulStop(frontDoor, runner, config, logger);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

    const ended = runner.run().catch((error: unknown) => {
      logger.fatal({ event: 'supervisor.internal_error', error: error instanceof Error ? error.message : String(error) }, 'internal error in the gateway runner: stopping (please report it)');
      runner.kill();
      return 1 as const;
    });
    void ended.then(async (code) => {
      if (stopping !== null) {
        await stopping;
        finish(0, 'stopped on signal');
        return;
      }
      // The gateway is gone for good (crash loop or refusal): let the platform's policy act.
      frontDoor.startDrain();
      await frontDoor.cutRemaining();
      finish(code, code === 78 ? 'gateway refused its configuration' : 'gateway crash loop');
    });
  });
}

function logConfigMode(prepared: PreparedConfig, logger: SupervisorLogger['logger']): void {
  const fields = { event: 'gateway.config_prepared', mode: prepared.mode, configPath: prepared.configPath, userConfigPath: prepared.userConfigPath };
  if (prepared.mode === 'overlay') {
    logger.warn(
      fields,
      `${prepared.userConfigPath} is JSON5 or read-only, so the supervisor adds gateway.trustedProxies through ${prepared.configPath}, which includes it; the gateway will refuse config edits from the Control UI: edit ${prepared.userConfigPath} directly`,
    );
  } else {
    logger.info(fields, `gateway config ${prepared.mode}: ${prepared.configPath}`);
  }
}

function describeToken(token: { origin: string; path: string | null }): string {
  if (token.origin === 'generated') return `generated and stored in ${token.path}`;
  if (token.origin === 'stored') return `read from ${token.path} (generated earlier)`;
  return token.origin === 'file' ? `read from ${token.path}` : 'from OPENCLAW_GATEWAY_TOKEN';
}

/** One `supervisor.exposure` record (what protects the gateway) and, behind an edge nobody trusts, one `supervisor.shared_client_address` warning. */
async function logExposure(config: Config, platform: Platform, tokenOrigin: string, configPath: string, logger: SupervisorLogger['logger']): Promise<void> {
  const effective = await readEffectiveConfig(configPath);
  const exposure = describeExposure({
    platform,
    host: config.host,
    port: config.publicPort,
    trustedProxies: config.trustedProxies,
    tokenOrigin,
    effectiveConfig: effective.config,
    configError: effective.error,
  });
  const record = exposureRecord(exposure);
  logger.info(record.fields, record.message);
  const shared = sharedClientAddressRecord(exposure);
  if (shared !== null) logger.warn(shared.fields, shared.message);
}

function warnAboutRailwayDraining(platform: Platform, env: NodeJS.ProcessEnv, logger: SupervisorLogger['logger']): void {
  const draining = env['RAILWAY_DEPLOYMENT_DRAINING_SECONDS'];
  if (platform.kind === 'railway' && (draining === undefined || Number(draining) === 0)) {
    logger.warn(
      { event: 'supervisor.no_draining_time', drainingSeconds: draining ?? null },
      'Railway will SIGKILL this container right after SIGTERM (drainingSeconds is 0): set drainingSeconds in railway.toml (e.g. 30) or RAILWAY_DEPLOYMENT_DRAINING_SECONDS so that sessions can drain',
    );
  }
}
