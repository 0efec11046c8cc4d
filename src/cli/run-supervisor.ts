import type { Config } from '../config/config.js';
import { SECOND_SIGNAL_BASE } from '../exit-codes.js';
import { FrontDoor } from '../front-door/front-door.js';
import { isAuthReloadLine } from '../gateway/auth-check.js';
import { totalmem } from 'node:os';
import { buildChildEnv } from '../gateway/child-env.js';
import { decideGatewayHeap } from '../gateway/heap-size.js';
import { GatewayRunner } from '../gateway/gateway-runner.js';
import { PairingNotices } from '../gateway/pairing-notice.js';
import { listPendingPairing } from '../gateway/pairing-list.js';
import { emit } from '../log/emit.js';
import type { SupervisorLogger } from '../log/logger.js';
import { authWatchFor, preflight } from '../preflight/preflight.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { readMemoryEvidence } from '../host/evidence.js';
import { connectionCap, readFdLimit } from '../host/fd-limit.js';
import { attachOperations } from '../ops/attach-operations.js';
import { factsOf } from '../ops/health-details.js';
import type { ReaperStatus } from '../host/pid1.js';
import { publicUrls } from '../host/public-urls.js';
import { selfCommand } from '../host/self-command.js';
import { startReleases } from '../releases/start-releases.js';
import { tokenCommandHere } from './token-command.js';

/** Wiring: preflight, then the gateway runner and the front door under one supervisor. Resolves with the exit code. */
export async function runSupervisor(config: Config, log: SupervisorLogger, reaper: ReaperStatus, version: string): Promise<number> {
  const startedAt = Date.now();
  const env = process.env;
  const { logger } = log;
  const prepared = await preflight(config, log, env, { version, reaper });
  // The notice reads the gateway's own pending list with the supervisor's token (loopback, scope operator.pairing).
  const pairingNotices = new PairingNotices({ logger, selfCommand: selfCommand(), listPending: () => listPendingPairing(config.gatewayPort, prepared.token.value) });
  const authWatch = authWatchFor(config, prepared, logger, selfCommand());
  const showToken = tokenCommandHere(env);
  // Under a memory limit, the gateway's heap as its own service install would size it (heap-size.ts).
  const heap = decideGatewayHeap({ limitBytes: readMemoryEvidence()?.maxBytes ?? null, physicalBytes: totalmem(), nodeOptions: env['NODE_OPTIONS'], command: [prepared.command.file, ...prepared.command.args] });
  if (heap.kind === 'sized') {
    emit(
      logger,
      'gateway.heap_sized',
      { maxOldSpaceSizeMiB: heap.maxOldSpaceSizeMiB, memoryLimitBytes: heap.limitBytes },
      `the container's memory limit is ${Math.round(heap.limitBytes / 1048576)} MiB: the gateway gets --max-old-space-size=${heap.maxOldSpaceSizeMiB} in NODE_OPTIONS, as \`openclaw gateway install\` would give it (set your own in NODE_OPTIONS to override)`,
    );
  }
  const childEnv = buildChildEnv({
      parentEnv: env,
      token: prepared.token.value,
      stateDir: config.stateDir,
      configPath: prepared.gatewayConfig.configPath,
      includeRoots: prepared.gatewayConfig.includeRoots,
      nodeBinDir: prepared.runtime.nodeBinDir,
      nodeOptions: heap.kind === 'sized' ? heap.nodeOptions : null,
  });
  // The openclaw release to run (SUPERVISOR_OPENCLAW_VERSION), with its step from the last good one; none with a command after --.
  const releases = config.gatewayCommand === null ? await startReleases(config, prepared.runtime, childEnv, logger) : null;
  const runner = new GatewayRunner({
    command: prepared.command,
    ...(releases ? { prepare: releases.prepare } : {}),
    env: childEnv,
    gatewayPort: config.gatewayPort,
    startupTimeoutMs: config.startupTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    restart: config.restart,
    liveness: config.liveness,
    logger,
    onGatewayLine: (line) => {
      pairingNotices.onLine(line);
      releases?.onGatewayLine(line);
      if (isAuthReloadLine(line)) void authWatch.check('reload');
    },
    ...(releases ? { onRestartRequest: releases.onRestartRequest } : {}),
    readyDetails: async () => {
      await releases?.manager.markReady();
      const { tokenInEffect } = await authWatch.check('ready');
      const urls = publicUrls(config.host, config.publicPort, env);
      // A command that prints the token, not a file to read: the CLI resolves the token the gateway enforces.
      return { fields: { urls, tokenInEffect, tokenCommand: showToken }, message: `: open ${urls.join(' or ')}; the token: ${showToken}` };
    },
  });
  const frontDoor = new FrontDoor({
    host: config.host,
    port: config.publicPort,
    gatewayPort: config.gatewayPort,
    trustedProxies: config.trustedProxies,
    loopbackClients: config.loopbackClients,
    logger,
    gatewayState: () => runner.lifecycle.state,
    gatewayResponsive: () => runner.responsive,
    maxConnections: connectionCap(readFdLimit()),
  });
  // Metrics, alerts, health details; the exit waits for alerts under way at most a bound (none after a second signal).
  const operations = await attachOperations({ config, log, frontDoor, gateway: () => factsOf(runner.lifecycle), readMemory: readMemoryEvidence, version, platform: prepared.platform.kind, env });
  await releases?.listen(runner);
  const code = await new Supervisor({ config, logger, runner, frontDoor, env, startedAt }).run();
  releases?.close();
  // After a second signal nobody waits, alerts included.
  await operations.close(code >= SECOND_SIGNAL_BASE ? 0 : undefined);
  pairingNotices.close();
  return code;
}
