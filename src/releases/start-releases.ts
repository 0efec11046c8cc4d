import type { Server } from 'node:net';
import type { Config } from '../config/config.js';
import type { GatewayCommand } from '../gateway/gateway-command.js';
import type { GatewayRunner, GatewayTrial } from '../gateway/gateway-runner.js';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { resolveExecutable } from '../host/executables.js';
import type { GatewayRuntime } from '../preflight/locate-gateway.js';
import { selfCommand } from '../host/self-command.js';
import { controlSocketPath, listenControl } from './control-socket.js';
import { parseReleasePin } from '../config/release-pin.js';
import { ReleaseManager, consumeRestartHandoff, nodeVersionOf } from './release-manager.js';
import { releaseOfBinary } from './release-store.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/** What the gateway prints when the Control UI's Update button (or `openclaw update`) meets OPENCLAW_SUPERVISOR_MODE=external (openclaw 2026.9.6). */
const SELF_UPDATE_REFUSED = 'self-update is disabled while gateway lifecycle is managed by an external supervisor';
/** One hint per this long, however often the button is pressed. */
const HINT_EVERY_MS = TIME_BOUNDS.selfUpdateHintEvery.ms;

export interface StartedReleases {
  readonly manager: ReleaseManager;
  /**
   * The runner's first step, once the front door listens and metrics and alerts follow the log:
   * which release runs, and the trial of a step (an install and a backup can take a minute).
   */
  prepare(signal: AbortSignal): Promise<{ command: GatewayCommand; trial: GatewayTrial | null }>;
  onGatewayLine(line: string): void;
  /** The ready gateway exited 0 on its own: its restart handoff is consumed and its reason logged. */
  onRestartRequest(gatewayPid: number): void;
  /** The control socket for `openclaw-supervisor update`, once the runner exists. */
  listen(runner: GatewayRunner): Promise<void>;
  close(): void;
}

/**
 * The release this start runs (and its step), the control socket, and the hint at the gateway's
 * own update refusal. Null when nothing is to manage: an openclaw on PATH that is no package we can
 * read, and no pin (it runs as before, unmanaged).
 */
export async function startReleases(config: Config, runtime: GatewayRuntime, env: Record<string, string>, logger: Logger): Promise<StartedReleases | null> {
  const found = resolveExecutable(runtime.openclawBinary, env['PATH'] ?? '', process.cwd()).found;
  const image = found === null ? null : releaseOfBinary(found);
  if (image === null && config.openclawVersion === null) return null;
  const manager = new ReleaseManager({ stateDir: config.stateDir, image, env, nodeVersion: await nodeVersionOf(runtime.nodeBinDir, env), gatewayPort: config.gatewayPort, logger });
  let server: Server | null = null;
  let lastHint = Number.NEGATIVE_INFINITY;
  return {
    manager,
    prepare: async (signal) => {
      const { release, trial } = await manager.atStart(config.openclawVersion, signal);
      const pinned = config.openclawVersion?.kind === 'exact' ? config.openclawVersion.version : (config.openclawVersion?.kind ?? null);
      emit(
        logger,
        'gateway.release',
        { version: release.version, source: release.source, image: image?.version ?? null, pinned, next: trial === null ? null : trial.version },
        `openclaw ${release.version} (${release.source === 'image' ? "the image's own" : `installed in ${manager.store.dir}`})${trial === null ? '' : `; trying openclaw ${trial.version} first`}`,
      );
      return { command: manager.commandOf(release), trial };
    },
    onRestartRequest: (gatewayPid) => {
      const running = manager.running;
      if (running === null) return;
      void consumeRestartHandoff(running, gatewayPid, env).then((handoff) =>
        emit(logger, 'gateway.restart_handoff', { gatewayPid, ...handoff }, `the gateway's restart handoff: ${String(handoff.status)}${handoff.reason ? ` (${String(handoff.reason)})` : ''}`),
      );
    },
    onGatewayLine: (line) => {
      if (!line.includes(SELF_UPDATE_REFUSED) || Date.now() - lastHint < HINT_EVERY_MS) return;
      lastHint = Date.now();
      const command = `${selfCommand()} update --check, then ${selfCommand()} update --to latest --yes`;
      emit(logger, 'gateway.update_refused_by_gateway', { command }, `the gateway refused its own update (the supervisor owns its releases): run ${command}, or set SUPERVISOR_OPENCLAW_VERSION and redeploy`);
    },
    listen: async (runner) => {
      const path = controlSocketPath(manager.store.dir);
      server = await listenControl(path, async (request, progress) => {
        if (request['op'] === 'check') return { ...(await manager.check()), pinned: config.openclawVersion };
        if (request['op'] !== 'update' || typeof request['to'] !== 'string') throw new Error('unknown request: expected {"op":"check"} or {"op":"update","to":"<version>|latest"}');
        return { ...(await manager.update(parseReleasePin(request['to'], '--to'), runner, progress)), pinned: config.openclawVersion };
      }).then((listening) => {
        if (listening === null) emit(logger, 'supervisor.control_unavailable', { path, code: 'EADDRINUSE' }, `another supervisor answers on ${path} (the same state dir): openclaw-supervisor update reaches that one, not this one`);
        return listening;
      }, (error: NodeJS.ErrnoException) => {
        emit(logger, 'supervisor.control_unavailable', { path, code: error.code ?? null }, `cannot listen on ${path} (${error.code ?? error.message}): openclaw-supervisor update cannot reach this supervisor; SUPERVISOR_OPENCLAW_VERSION still works at start`);
        return null;
      });
    },
    close: () => server?.close(),
  };
}
