import { randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffSnapshots, snapshotTree, type TreeSnapshot } from '../fs/tree-snapshot.js';
import { preflightVerdict } from './choose-release.js';
import { jsonOf, runBounded, tailOf } from './release-cli.js';
import type { Release } from './release-store.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/** Bounds of the release CLI's own work (a cold CLI start is ~1 s here; a backup of a fresh state ~3 s). */
export const STEP_BOUNDS = {
  backupMs: TIME_BOUNDS.releaseBackup.ms,
  preflightMs: TIME_BOUNDS.releasePreflight.ms,
  restoreMs: TIME_BOUNDS.releaseRestore.ms,
  installMs: TIME_BOUNDS.releaseInstall.ms,
  registryMs: TIME_BOUNDS.releaseRegistry.ms,
} as const;

/** Backups the store keeps (the newest): each is the state as it was before one step. */
const KEPT_BACKUPS = 3;

/** The state database, relative to the state dir (openclaw 2026.8–2026.9: `state/openclaw.sqlite`). */
const STATE_DATABASE = join('state', 'openclaw.sqlite');

/** Entries of the state dir that are no state of the gateway's: the store itself, and its lock files. */
const NOT_STATE = new Set(['tools', 'tmp']);

export interface StepEnv {
  readonly stateDir: string;
  readonly storeDir: string;
  readonly backupsDir: string;
  /** The gateway's environment: Node 24 first on PATH, its state dir, config and token. */
  readonly env: Record<string, string>;
  readonly signal?: AbortSignal;
}

export interface Backup {
  readonly path: string;
  readonly sizeBytes: number;
  readonly durationMs: number;
  /** Where the state dir is inside the archive (its manifest's state asset). */
  readonly stateInArchive: string | null;
}

/** What stopped a step to another release: one of its preparations, or its own start (`startup`). */
export type UpdateStage = 'install' | 'engines' | 'backup' | 'preflight' | 'restore' | 'startup';

export class StepError extends Error {
  constructor(readonly stage: Exclude<UpdateStage, 'startup'>, message: string) {
    super(message);
  }
}

const bounded = (env: StepEnv, timeoutMs: number): { env: Record<string, string>; timeoutMs: number; signal?: AbortSignal } => ({ env: env.env, timeoutMs, ...(env.signal ? { signal: env.signal } : {}) });

/** Whether the gateway has written state here yet (a fresh volume has nothing to back up or preflight). */
export async function stateWritten(stateDir: string): Promise<boolean> {
  return stat(join(stateDir, STATE_DATABASE)).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

/**
 * `openclaw backup create --verify` by the release that wrote the state (it knows its own schema),
 * into the store's backups; the oldest beyond the kept ones are removed.
 */
export async function createBackup(release: Release, label: string, env: StepEnv): Promise<Backup> {
  await mkdir(env.backupsDir, { recursive: true, mode: 0o700 });
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-openclaw-${release.version}-${label}.tar.gz`;
  // openclaw refuses an archive written inside the state dir it archives: made outside, then moved in (a copy across file systems).
  const outside = await mkdtemp(join(tmpdir(), 'openclaw-supervisor-backup-'));
  const path = join(env.backupsDir, name);
  const started = Date.now();
  try {
    const made = join(outside, name);
    const result = await runBounded(release.binary, ['backup', 'create', '--verify', '--output', made, '--json'], bounded(env, STEP_BOUNDS.backupMs));
    const report = jsonOf(result.stdout);
    if (result.failure !== null || result.code !== 0 || report?.['verified'] !== true) {
      throw new StepError('backup', `openclaw ${release.version} backup create ${result.failure ?? `exited ${result.code}`}${report?.['verified'] === false ? ' (not verified)' : ''}: ${tailOf(result.stderr || result.stdout, 3) || 'no output'}`);
    }
    await copyFile(made, `${path}.partial`);
    await rename(`${path}.partial`, path);
    const assets = Array.isArray(report['assets']) ? (report['assets'] as Array<Record<string, unknown>>) : [];
    const state = assets.find((asset) => asset['kind'] === 'state');
    const stateInArchive = typeof state?.['archivePath'] === 'string' ? state['archivePath'] : null;
    await pruneBackups(env.backupsDir);
    return { path, sizeBytes: (await stat(path)).size, durationMs: Date.now() - started, stateInArchive };
  } catch (error) {
    await rm(`${path}.partial`, { force: true });
    throw error instanceof StepError ? error : new StepError('backup', `cannot keep the backup in ${env.backupsDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
}

async function pruneBackups(dir: string): Promise<void> {
  // Names start with the time: sorted, the oldest come first.
  const names = (await readdir(dir)).filter((name) => name.endsWith('.tar.gz')).sort();
  await Promise.all(names.slice(0, Math.max(0, names.length - KEPT_BACKUPS)).map((name) => rm(join(dir, name), { force: true })));
}

/**
 * The target's own `openclaw database preflight` on the state database as the backup holds it:
 * a consolidated copy made with SQLite's online backup (no -wal/-shm beside it), as the external
 * supervisor contract asks. Called only when the state has a database: one missing from the
 * backup is an error, never a skipped preflight.
 */
export async function preflightTarget(target: Release, backup: Backup, env: StepEnv): Promise<ReturnType<typeof preflightVerdict>> {
  if (backup.stateInArchive === null) throw new StepError('preflight', `the backup ${backup.path} names no state directory: cannot preflight openclaw ${target.version}`);
  const member = `${backup.stateInArchive}/${STATE_DATABASE}`;
  const work = join(env.storeDir, `preflight-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    const extract = await runBounded('tar', ['-xzf', backup.path, '-C', work, member], bounded(env, STEP_BOUNDS.preflightMs));
    if (extract.code !== 0) {
      throw new StepError('preflight', `cannot take the state database out of ${backup.path}: ${tailOf(extract.stderr, 2) || extract.failure || `tar exited ${extract.code}`}`);
    }
    const result = await runBounded(target.binary, ['database', 'preflight', join(work, member), '--json'], bounded(env, STEP_BOUNDS.preflightMs));
    const verdict = preflightVerdict(jsonOf(result.stdout));
    if (result.failure !== null) throw new StepError('preflight', `openclaw ${target.version} database preflight ${result.failure}`);
    if (verdict.status === 'unreadable') throw new StepError('preflight', `openclaw ${target.version} database preflight gave no report (exit ${result.code}): ${tailOf(result.stderr || result.stdout, 3) || 'no output'}`);
    return verdict;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What the state dir holds now (the gateway's own state: not the store, not lock files), to tell whether a release changed it. */
export async function snapshotState(stateDir: string): Promise<TreeSnapshot> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  return snapshotTree(names.filter((name) => !NOT_STATE.has(name)).map((name) => join(stateDir, name)));
}

export const stateChanged = (before: TreeSnapshot, after: TreeSnapshot): boolean => before.truncated || after.truncated || diffSnapshots(before, after).length > 0;

/**
 * Puts the backup's state back in place of what a failed release left: `openclaw backup restore`
 * (by the release that made it) into a fresh directory outside the state dir (it refuses one
 * inside), copied next to the state (same file system), then the state's entries are moved aside
 * into the store's `failed-state/` (kept for a look, the previous one replaced) and the restored
 * ones moved in: renames, so the state is never half the one and half the other.
 */
export async function restoreBackup(release: Release, backup: Pick<Backup, 'path' | 'stateInArchive'>, env: StepEnv): Promise<{ failedStateDir: string }> {
  if (backup.stateInArchive === null) throw new StepError('restore', `the backup ${backup.path} names no state directory`);
  const outside = await mkdtemp(join(tmpdir(), 'openclaw-supervisor-restore-'));
  const staging = join(env.storeDir, `restore-${randomBytes(6).toString('hex')}`);
  const failedStateDir = join(env.storeDir, 'failed-state');
  try {
    const target = join(outside, 'restored');
    const result = await runBounded(release.binary, ['backup', 'restore', backup.path, '--target', target, '--json'], bounded(env, STEP_BOUNDS.restoreMs));
    if (result.failure !== null || result.code !== 0 || jsonOf(result.stdout)?.['ok'] !== true) {
      throw new StepError('restore', `openclaw ${release.version} backup restore ${result.failure ?? `exited ${result.code}`}: ${tailOf(result.stderr || result.stdout, 3) || 'no output'}`);
    }
    await cp(join(target, backup.stateInArchive), staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await rm(failedStateDir, { recursive: true, force: true });
    await mkdir(failedStateDir, { mode: 0o700 });
    // Each rename is undone if a later one fails: the state dir is either the failed state or the restored one.
    const done: Array<[string, string]> = [];
    try {
      for (const name of await readdir(env.stateDir)) {
        if (name === 'tools') continue;
        await rename(join(env.stateDir, name), join(failedStateDir, name));
        done.push([join(env.stateDir, name), join(failedStateDir, name)]);
      }
      for (const name of await readdir(staging)) {
        if (name === 'tools') continue;
        await rename(join(staging, name), join(env.stateDir, name));
        done.push([join(staging, name), join(env.stateDir, name)]);
      }
    } catch (error) {
      for (const [from, to] of done.reverse()) await rename(to, from).catch(() => undefined);
      throw new StepError('restore', `cannot swap the restored state in (${(error as NodeJS.ErrnoException).code ?? String(error)}): the state dir was left as the failed release left it`);
    }
    return { failedStateDir };
  } finally {
    await rm(outside, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
