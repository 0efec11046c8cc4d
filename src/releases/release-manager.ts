import semver from 'semver';
import { buildGatewayCommand, type GatewayCommand } from '../gateway/gateway-command.js';
import type { GatewayRunner, GatewayTrial } from '../gateway/gateway-runner.js';
import type { AttemptOutcome } from '../gateway/restart-policy.js';
import { emit } from '../log/emit.js';
import type { RestartHandoff } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import { chooseRelease } from './choose-release.js';
import { jsonOf, runBounded, tailOf } from './release-cli.js';
import type { ReleasePin } from '../config/release-pin.js';
import { nodeSatisfies } from './release-versions.js';
import { type PendingTrial, type Release, ReleaseStore } from './release-store.js';
import { STEP_BOUNDS, StepError, createBackup, preflightTarget, restoreBackup, snapshotState, stateChanged, stateWritten, type Backup, type StepEnv, type UpdateStage } from './release-step.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export interface ReleaseManagerOptions {
  readonly stateDir: string;
  /** The release installed with the image (or by `npm run runtime`), or null when unknown. */
  readonly image: Release | null;
  /** The gateway's environment (Node 24 first on PATH): the release CLI and npm run with it. */
  readonly env: Record<string, string>;
  /** The Node version the gateway runs on (for `engines.node`). */
  readonly nodeVersion: string;
  readonly gatewayPort: number;
  readonly logger: Logger;
}

/** What a step between releases ended with, for the `update` command and the records. */
export type StepResult =
  | { readonly outcome: 'running'; readonly version: string; readonly message: string }
  | { readonly outcome: 'updated'; readonly from: string | null; readonly to: string; readonly backup: string | null; readonly outageMs: number | null; readonly message: string }
  | { readonly outcome: 'rolled-back'; readonly from: string | null; readonly to: string; readonly stage: string; readonly reason: string; readonly message: string };

/** A trial's step once its target is about to run: what its accept and reject need. */
interface PendingStep {
  /** The restore point: the state as it was before the target first ran (null: there was no state). */
  readonly backup: Backup | null;
  readonly beforeTrial: Awaited<ReturnType<typeof snapshotState>> | null;
  /** When the gateway went away (live) or the trial began: the outage's start. */
  readonly startedAt: number;
}

/**
 * Gateway releases the external-supervisor way (openclaw's docs/cli/gateway/restart-and-supervision.md):
 * before a release runs on state last written by another, a verified backup by the writer, then the
 * target's own `database preflight` on the backup's consolidated copy of the state database; the
 * target is accepted only once ready within the startup budget, else the last good release runs
 * again, on the backup when the target changed the state.
 */
export class ReleaseManager {
  readonly store: ReleaseStore;
  readonly #options: ReleaseManagerOptions;
  #running: Release | null = null;
  #busy = false;
  /** Ends the release CLI's and npm's work when the supervisor stops (the runner's stop). */
  #signal: AbortSignal | undefined;

  constructor(options: ReleaseManagerOptions) {
    this.#options = options;
    this.store = new ReleaseStore(options.stateDir);
  }

  get running(): Release | null {
    return this.#running;
  }

  get #stepEnv(): StepEnv {
    const { stateDir, env } = this.#options;
    return { stateDir, storeDir: this.store.dir, backupsDir: this.store.backupsDir, env, ...(this.#signal ? { signal: this.#signal } : {}) };
  }

  commandOf(release: Release): GatewayCommand {
    return buildGatewayCommand(null, release.binary, this.#options.gatewayPort);
  }

  /**
   * The release a start runs, and a trial to run first when the target is a step from the release
   * that last wrote the state. Whatever fails before the trial (the registry, npm, engines, the
   * backup, the preflight) keeps the last good release, with one `gateway.update_rolled_back`.
   */
  async atStart(pin: ReleasePin | null, signal?: AbortSignal): Promise<{ release: Release; trial: GatewayTrial | null }> {
    const { image, logger } = this.#options;
    this.#signal = signal;
    await this.store.removeLeftovers();
    const interrupted = await this.store.pending();
    if (interrupted !== null) await this.#recoverInterrupted(interrupted);
    const lastGood = await this.store.lastGood();
    const pinned = pin === null ? null : await this.#resolvePin(pin).catch((error: Error) => {
      emit(logger, 'gateway.release_unresolved', { reason: error.message }, `SUPERVISOR_OPENCLAW_VERSION=latest: ${error.message}; running the last good release instead`);
      return null;
    });
    const choice = chooseRelease({ pinned, image: image?.version ?? null, lastGood, stateWritten: await stateWritten(this.#options.stateDir) });
    // The writer runs the backup, and again if the target fails: installed again if the store lost it.
    const from = choice.from === null ? null : (this.#release(choice.from) ?? (await this.#install(choice.from).catch(() => null)));
    const safe = from ?? image ?? (lastGood === null ? null : this.store.installed(lastGood));
    if (choice.target === null) return this.#startWith(this.#required(safe), null);
    if (choice.step && from === null) {
      emit(logger, 'gateway.release_unresolved', { reason: `openclaw ${choice.from} wrote the state but cannot be installed` }, `openclaw ${choice.from} wrote this state but is neither the image's nor installable now: openclaw ${choice.target} starts on it without a backup`);
    }
    if (!choice.step || from === null) {
      const target = choice.target;
      const release = this.#release(target) ?? (await this.#install(target).catch((error: Error) => this.#refused(safe, target, 'install', error.message)));
      if (release !== null && !nodeSatisfies(this.#options.nodeVersion, release.enginesNode) && safe !== null && safe !== release) {
        return this.#startWith(this.#refused(safe, target, 'engines', `openclaw ${target} needs Node ${release.enginesNode}; the gateway runs on Node ${this.#options.nodeVersion}`) ?? safe, null);
      }
      return this.#startWith(release ?? this.#required(safe), null);
    }
    const prepared = await this.#prepare(from, choice.target);
    if (prepared.kind === 'refused') return this.#startWith(from, null);
    return this.#startWith(from, this.#trial(from, prepared.to, prepared.backup, () => undefined, null));
  }

  /**
   * A trial that a stop or a kill cut short (its record survived it): the state is put back from
   * its restore point before anything runs on it, since the target may have migrated it half-way.
   * Lossless: nothing but the target ran after that backup.
   */
  async #recoverInterrupted(pending: PendingTrial): Promise<void> {
    const from = this.#release(pending.from) ?? (await this.#install(pending.from).catch(() => null));
    let restored: string | null = null;
    let reason = `the supervisor stopped while openclaw ${pending.to} was on trial`;
    try {
      if (from === null) throw new Error(`openclaw ${pending.from} is not installed and cannot be installed now`);
      await restoreBackup(from, { path: pending.backup, stateInArchive: pending.stateInArchive }, this.#stepEnv);
      restored = pending.backup;
    } catch (error) {
      reason += `; the state could not be restored (${error instanceof Error ? error.message : String(error)}): restore ${pending.backup} by hand`;
    }
    await this.store.setPending(null);
    this.#refusedResult(from, pending.to, 'startup', reason, restored);
  }

  /** The running release got ready: it is the last good one from now on. */
  async markReady(): Promise<void> {
    const running = this.#running;
    if (running !== null && (await this.store.lastGood()) !== running.version) await this.store.setLastGood(running.version);
  }

  /**
   * A live step to `pin` for the `update` command: prepared while the running gateway serves (install,
   * engines, backup, preflight), then the gateway is replaced; resolves once the target is ready or
   * the last good one runs again. One at a time.
   */
  async update(pin: ReleasePin, runner: GatewayRunner, progress: (line: string) => void): Promise<StepResult> {
    if (this.#busy) throw new StepBusyError();
    const state = runner.lifecycle.state;
    if (runner.trialPending || (state !== 'ready' && state !== 'backoff')) throw new Error(`the gateway is ${runner.trialPending ? 'trying another release' : state} now: run update again once it is ready`);
    this.#busy = true;
    try {
      const target = await this.#resolvePin(pin);
      const from = this.#running;
      if (from?.version === target) return { outcome: 'running', version: target, message: `openclaw ${target} is already running: nothing to do` };
      progress(`preparing openclaw ${target} (running: ${from?.version ?? 'none'}): install, engines, backup, preflight; the gateway keeps serving meanwhile`);
      const prepared = await this.#prepare(from, target, progress);
      if (prepared.kind === 'refused') return prepared.result;
      // The restore point is taken with the gateway stopped, so that nothing it wrote is lost on a rollback.
      const stoppedAt = Date.now();
      let settle: (result: StepResult) => void = () => undefined;
      const settled = new Promise<StepResult>((resolve) => (settle = resolve));
      progress(`stopping openclaw ${from?.version ?? ''} to start ${target}`);
      runner.beginTrial(this.#trial(from, prepared.to, prepared.backup, settle, { stoppedAt }));
      await runner.restartGateway();
      return await settled;
    } finally {
      this.#busy = false;
    }
  }

  /** What `update --check` shows: running, last good, the image's, and what the registry offers. */
  async check(): Promise<Record<string, unknown>> {
    const registry = await this.#registry(['view', 'openclaw', 'dist-tags.latest', 'versions', '--json']).catch((error: Error) => ({ error: error.message }));
    return { running: this.#running?.version ?? null, runningFrom: this.#running?.source ?? null, lastGood: await this.store.lastGood(), image: this.#options.image?.version ?? null, registry };
  }

  #startWith(release: Release, trial: GatewayTrial | null): { release: Release; trial: GatewayTrial | null } {
    this.#running = release;
    return { release, trial };
  }

  #required(release: Release | null): Release {
    if (release === null) throw new Error('no openclaw release to run: the image has none and the store holds no last good release');
    return release;
  }

  /** An installed release: the image's, or one in the store. */
  #release(version: string): Release | null {
    return this.#options.image?.version === version ? this.#options.image : this.store.installed(version);
  }

  async #resolvePin(pin: ReleasePin): Promise<string> {
    if (pin.kind === 'exact') return pin.version;
    const answer = await this.#registry(['view', 'openclaw@latest', 'version', '--json']);
    // The answer names a directory of the store: it must be a version, exactly.
    if (typeof answer !== 'string' || semver.valid(answer) !== answer) throw new Error('the npm registry named no valid latest openclaw');
    return answer;
  }

  async #registry(args: readonly string[]): Promise<unknown> {
    const result = await runBounded('npm', args, { env: this.#options.env, timeoutMs: STEP_BOUNDS.registryMs, ...(this.#signal ? { signal: this.#signal } : {}) });
    if (result.failure !== null || result.code !== 0) throw new Error(`cannot reach the npm registry (npm ${args.slice(0, 2).join(' ')} ${result.failure ?? `exited ${result.code}`}: ${tailOf(result.stderr, 2) || 'no output'})`);
    return JSON.parse(result.stdout) as unknown;
  }

  async #install(version: string, progress?: (line: string) => void): Promise<Release> {
    progress?.(`installing openclaw ${version} from the npm registry into ${this.store.dir}`);
    const started = Date.now();
    const release = await this.store.install(version, this.#options.env, { timeoutMs: STEP_BOUNDS.installMs, ...(this.#signal ? { signal: this.#signal } : {}) });
    emit(this.#options.logger, 'gateway.release_installed', { version, durationMs: Date.now() - started, path: release.binary }, `openclaw ${version} installed from the npm registry in ${Date.now() - started} ms`);
    return release;
  }

  /** Install, engines, backup, preflight: everything that can refuse a step before the running gateway is touched. */
  async #prepare(from: Release | null, target: string, progress?: (line: string) => void): Promise<{ kind: 'ready'; to: Release; backup: Backup | null } | { kind: 'refused'; result: StepResult }> {
    const { logger, nodeVersion } = this.#options;
    try {
      const to: Release = this.#release(target) ?? (await this.#install(target, progress).catch((error: Error): never => {
        throw new StepError('install', error.message);
      }));
      if (!nodeSatisfies(nodeVersion, to.enginesNode)) throw new StepError('engines', `openclaw ${target} needs Node ${to.enginesNode}; the gateway runs on Node ${nodeVersion}`);
      let backup: Backup | null = null;
      if (from !== null && (await stateWritten(this.#options.stateDir))) {
        progress?.(`backing up the state with openclaw ${from.version}`);
        backup = await createBackup(from, `before-${target}`, this.#stepEnv);
        emit(logger, 'gateway.backup_created', { path: backup.path, from: from.version, to: target, sizeBytes: backup.sizeBytes, durationMs: backup.durationMs }, `verified backup of the state before openclaw ${target}: ${backup.path} (${backup.sizeBytes} bytes, ${backup.durationMs} ms)`);
        progress?.(`backup: ${backup.path}; preflight of the state database by openclaw ${target}`);
        const verdict = await preflightTarget(to, backup, this.#stepEnv);
        emit(logger, 'gateway.release_preflight', { to: target, status: verdict.status, foundVersion: verdict.foundVersion, targetVersion: verdict.targetVersion }, `openclaw ${target} database preflight: ${verdict.status}`);
        if (!verdict.startable) {
          throw new StepError('preflight', `openclaw ${target} refuses the state database: ${verdict.status} (schema ${verdict.foundVersion ?? '?'} found, it supports ${verdict.targetVersion ?? '?'}); a release at least as new as the one that wrote it is needed`);
        }
      }
      return { kind: 'ready', to, backup };
    } catch (error) {
      const stage = error instanceof StepError ? error.stage : 'install';
      const reason = error instanceof Error ? error.message : String(error);
      // A refused release is not kept: the store holds the running and the last good one only.
      await this.store.prune(from === null ? [] : [from.version]);
      return { kind: 'refused', result: this.#refusedResult(from, target, stage, reason) };
    }
  }

  #refused(fallback: Release | null, target: string, stage: UpdateStage, reason: string): null {
    this.#refusedResult(fallback, target, stage, reason);
    return null;
  }

  /** One `gateway.update_rolled_back` record (and, through it, the alert): the step did not happen, the last good release runs. */
  #refusedResult(from: Release | null, target: string, stage: UpdateStage, reason: string, restoredBackup: string | null = null): StepResult {
    const fromVersion = from?.version ?? null;
    const message = `openclaw ${target} was not started${stage === 'startup' ? ' for good' : ''} (${stage}: ${reason}); openclaw ${fromVersion ?? '(none)'} runs instead${restoredBackup === null ? '' : `, on the state restored from ${restoredBackup}`}`;
    // Cut short by a stop: the stop's own records say why, and nothing was refused.
    if (this.#signal?.aborted === true) return { outcome: 'rolled-back', from: fromVersion, to: target, stage, reason, message };
    emit(this.#options.logger, 'gateway.update_rolled_back', { from: fromVersion, to: target, stage, reason, restoredBackup }, message);
    return { outcome: 'rolled-back', from: fromVersion, to: target, stage, reason, message };
  }

  /**
   * The trial of `to` for the runner. Before it spawns: the restore point (live, a new backup of the
   * stopped gateway's state, since it wrote on after the preflight's) and a snapshot of the state.
   * Accepted: the last good release. Rejected: the state restored when the target changed it.
   */
  #trial(from: Release | null, to: Release, backup: Backup | null, settle: (result: StepResult) => void, live: { stoppedAt: number } | null): GatewayTrial {
    const { logger, stateDir } = this.#options;
    let step: PendingStep | null = null;
    return {
      command: this.commandOf(to),
      version: to.version,
      prepare: async () => {
        try {
          const point = live !== null && from !== null && backup !== null ? await createBackup(from, `before-${to.version}`, this.#stepEnv) : backup;
          if (point !== backup && point !== null) emit(logger, 'gateway.backup_created', { path: point.path, from: from?.version ?? null, to: to.version, sizeBytes: point.sizeBytes, durationMs: point.durationMs }, `verified backup of the stopped gateway's state before openclaw ${to.version}: ${point.path}`);
          step = { backup: point, beforeTrial: point === null ? null : await snapshotState(stateDir), startedAt: live?.stoppedAt ?? Date.now() };
          // Survives a kill of the supervisor during the trial: the next start puts the state back first.
          if (from !== null && point?.stateInArchive) await this.store.setPending({ from: from.version, to: to.version, backup: point.path, stateInArchive: point.stateInArchive });
          return true;
        } catch (error) {
          settle(this.#refusedResult(from, to.version, 'backup', error instanceof Error ? error.message : String(error)));
          return false;
        }
      },
      accept: async () => {
        this.#running = to;
        const outageMs = live === null || step === null ? null : Date.now() - step.startedAt;
        let removed: string[] = [];
        let note = '';
        try {
          await this.store.setLastGood(to.version);
          // The running release is the last good one now: nothing else is kept.
          removed = await this.store.prune([to.version]);
        } catch (error) {
          // It runs; only the record of it failed (a full disk?): the next start steps from the old release again.
          note = `; recording it failed (${(error as NodeJS.ErrnoException).code ?? String(error)}): the next start will step again`;
        }
        const message = `openclaw ${to.version} is running${from === null ? '' : ` (was ${from.version})`}${outageMs === null ? '' : `; the gateway was away for ${outageMs} ms`}${note}`;
        emit(logger, 'gateway.update_accepted', { from: from?.version ?? null, to: to.version, backup: step?.backup?.path ?? null, outageMs, removedReleases: removed }, message, note === '' ? 'info' : 'warn');
        settle({ outcome: 'updated', from: from?.version ?? null, to: to.version, backup: step?.backup?.path ?? null, outageMs, message });
      },
      reject: async (outcome: AttemptOutcome, stderrTail: readonly string[]) => {
        let restored: string | null = null;
        let reason = `it ended before it was ready (${outcome})${stderrTail.length > 0 ? `: ${stderrTail.slice(-2).join(' / ')}` : ''}`;
        try {
          if (step?.backup && from !== null && step.beforeTrial !== null && stateChanged(step.beforeTrial, await snapshotState(stateDir))) {
            await restoreBackup(from, step.backup, this.#stepEnv);
            restored = step.backup.path;
          }
          await this.store.setPending(null);
          await this.store.prune(from === null ? [] : [from.version]);
        } catch (error) {
          reason += `; the state it changed could not be restored (${error instanceof Error ? error.message : String(error)})${step?.backup ? `: restore ${step.backup.path} by hand` : ''}`;
        }
        settle(this.#refusedResult(from, to.version, 'startup', reason, restored));
      },
    };
  }
}

export class StepBusyError extends Error {
  constructor() {
    super('an update is already under way: wait for it to end');
  }
}

/** `node --version` of the Node the gateway runs on (its directory first on PATH; ours when none). */
export async function nodeVersionOf(nodeBinDir: string | null, env: Record<string, string>): Promise<string> {
  if (nodeBinDir === null) return process.version;
  const result = await runBounded(`${nodeBinDir}/node`, ['--version'], { env, timeoutMs: TIME_BOUNDS.releaseNodeVersion.ms });
  return result.code === 0 ? result.stdout.trim() : process.version;
}

/**
 * `openclaw gateway restart-handoff consume --expected-pid` by the running release, after its
 * gateway exited 0 on its own (the external-supervisor contract): the row it wrote before exiting
 * is taken (so that no replay can use it) and says why it restarted. Not awaited before the
 * respawn: the CLI's cold start took 1–9 s here, which would add to every restart's outage.
 */
export async function consumeRestartHandoff(release: Release, gatewayPid: number, env: Record<string, string>): Promise<RestartHandoff> {
  const result = await runBounded(release.binary, ['gateway', 'restart-handoff', 'consume', '--expected-pid', String(gatewayPid), '--json'], { env, timeoutMs: STEP_BOUNDS.preflightMs });
  const report = jsonOf(result.stdout);
  if (report === null) return { status: 'unavailable', reason: result.failure ?? (tailOf(result.stderr || result.stdout, 2) || `exit ${result.code}`) };
  const handoff = (report['handoff'] ?? {}) as Record<string, unknown>;
  return { status: report['status'] ?? 'unknown', reason: handoff['reason'] ?? report['reason'] ?? null, source: handoff['source'] ?? null, restartKind: handoff['restartKind'] ?? null };
}
