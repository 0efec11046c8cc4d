import { constants, type Stats } from 'node:fs';
import { access, lchown, lstat, mkdir, open, readdir, readFile, realpath, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StartFailure, UsageError } from '../errors.js';
import { describeWriteError, isOutOfSpace } from '../fs/write-file-atomic.js';
import type { PlatformKind } from './platform.js';
import type { RunAsUser } from './run-as.js';

/** What preparing the state dir as root did, for the `supervisor.privileges_dropped` record. */
export interface StateDirRepair {
  readonly created: boolean;
  /** Entries (the dir included) whose owner was changed to the run-as user. */
  readonly repaired: number;
  /** Entries on another filesystem mounted inside the state dir: left as they are. */
  readonly otherMounts: number;
  /**
   * Entries left as they are: files with more than one hard link (one may be a file outside the
   * state dir, linked in to be handed over), entries that vanished or changed under the walk.
   */
  readonly skipped: number;
  /** The walk stopped at its depth or entry bound: what lies beyond keeps its owner. */
  readonly truncated: boolean;
  readonly durationMs: number;
}

/** Bounds of the walk: a state dir deeper or larger than this is a tree the start must not wait on. */
export const REPAIR_LIMITS = { depth: 64, entries: 200_000 } as const;

const OPEN_DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Per-entry errors that mean "changed under us": the entry is skipped, the walk goes on. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? '';

/**
 * As root, before dropping to `user`: create the state dir and give the user whatever in it an
 * earlier root run left (Railway and Docker mount volumes root-owned; a root `openclaw` command
 * writes root-owned files). The state dir is the user's to change, so nothing in it is trusted:
 * - every directory is entered through a descriptor opened without following links and checked
 *   against what lstat saw, and its entries are named through /proc/self/fd/N, so a directory
 *   swapped for a link mid-walk cannot lead the walk out of the state dir;
 * - lchown, never chown: a link itself is handed over, never its target;
 * - files with several hard links are skipped (a hard link can bring in a file from elsewhere);
 * - other filesystems mounted inside are left alone; depth and size are bounded.
 * Realistically nothing of the user's runs at this point (the container just started), but a
 * `docker exec -u node` or a second pod on the volume could, and the gateway's agents run as it.
 */
export async function prepareStateDirAsRoot(stateDir: string, user: RunAsUser, now: () => number = Date.now): Promise<StateDirRepair> {
  const startedAt = now();
  // Parents are made traversable (0755) as root creates them; the state dir itself is private.
  await mkdir(dirname(stateDir), { recursive: true, mode: 0o755 });
  let created = true;
  try {
    await mkdir(stateDir, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    created = false;
  }
  const topStats = await lstat(stateDir);
  // The user can replace its state dir (in its home) with a link to `/`: root would then hand the
  // whole filesystem over. So the state dir itself is never followed, and no directory above its
  // parent may be the user's (it could swap the parent for a link); the parent (the user's home)
  // may be, since the state dir is then opened without following a link.
  if (topStats.isSymbolicLink()) {
    throw new UsageError(`the state dir ${stateDir} is a symbolic link: started as root, the supervisor does not follow it (${user.name} could have pointed it anywhere); set OPENCLAW_STATE_DIR to the directory itself`);
  }
  if (!topStats.isDirectory()) throw new UsageError(`the state dir ${stateDir} is not a directory: point OPENCLAW_STATE_DIR at a directory`);
  for (let above = dirname(dirname(stateDir)); ; above = dirname(above)) {
    if ((await lstat(above)).uid === user.uid) {
      throw new UsageError(`the state dir ${stateDir} lies under ${above}, which belongs to ${user.name}: started as root, the supervisor does not prepare a directory that ${user.name} could move; put the state dir directly in ${user.name}'s home or on a volume (e.g. /home/node/.openclaw or /data/.openclaw)`);
    }
    if (above === dirname(above)) break;
  }
  const counts = { repaired: 0, otherMounts: 0, skipped: 0, entries: 0, truncated: false };

  const give = async (path: string, stats: Stats): Promise<void> => {
    if (stats.uid === user.uid && stats.gid === user.gid) return;
    try {
      await lchown(path, user.uid, user.gid);
      counts.repaired++;
    } catch (error) {
      if (!VANISHED.has(errorCode(error))) throw error;
      counts.skipped++;
    }
  };

  const walk = async (dir: FileHandle, depth: number): Promise<void> => {
    const base = `/proc/self/fd/${dir.fd}`;
    for (const name of await readdir(base)) {
      if (++counts.entries > REPAIR_LIMITS.entries) {
        counts.truncated = true;
        return;
      }
      const path = `${base}/${name}`;
      let stats: Stats;
      try {
        stats = await lstat(path);
      } catch (error) {
        if (!VANISHED.has(errorCode(error))) throw error;
        counts.skipped++;
        continue;
      }
      if (stats.dev !== topStats.dev) {
        counts.otherMounts++;
        continue;
      }
      if (!stats.isDirectory()) {
        if (stats.isFile() && stats.nlink > 1) counts.skipped++;
        else await give(path, stats);
        continue;
      }
      await give(path, stats);
      if (depth >= REPAIR_LIMITS.depth) {
        counts.truncated = true;
        continue;
      }
      await withDirectory(path, stats, (child) => walk(child, depth + 1));
    }
  };

  const withDirectory = async (path: string, expected: Stats, use: (dir: FileHandle) => Promise<void>): Promise<void> => {
    let dir: FileHandle;
    try {
      dir = await open(path, OPEN_DIRECTORY);
    } catch (error) {
      if (!VANISHED.has(errorCode(error))) throw error;
      counts.skipped++;
      return;
    }
    try {
      const opened = await dir.stat();
      if (opened.dev !== expected.dev || opened.ino !== expected.ino) {
        counts.skipped++;
        return;
      }
      await use(dir);
    } finally {
      await dir.close();
    }
  };

  await withDirectory(stateDir, topStats, async (top) => {
    if (topStats.uid !== user.uid || topStats.gid !== user.gid) {
      await top.chown(user.uid, user.gid);
      counts.repaired++;
    }
    // The user must be able to enter and write its own state dir whatever mode a root run left.
    if ((topStats.mode & 0o700) !== 0o700) await top.chmod((topStats.mode & 0o7777) | 0o700);
    await walk(top, 1);
  });
  const { repaired, otherMounts, skipped, truncated } = counts;
  return { created, repaired, otherMounts, skipped, truncated, durationMs: now() - startedAt };
}

/** What to do about a state dir this process cannot write, for the platform it runs on. */
export function unwritableStateDirFix(platform: PlatformKind, stateDir: string, who: { uid: number; gid: number }, runAsSet: boolean): string {
  const runAs = runAsSet ? '' : ' and SUPERVISOR_RUN_AS=node';
  switch (platform) {
    case 'railway':
      return `set the service variable RAILWAY_RUN_UID=0${runAs}: the supervisor then starts as root, gives ${stateDir} to the unprivileged user and runs itself and the gateway as that user (only tini stays root)`;
    case 'kubernetes':
      return `set the pod's securityContext.fsGroup to ${who.gid} (the volume then becomes writable for the group), or start the pod as root${runAs} so that the supervisor prepares the volume and then runs as the unprivileged user`;
    case 'docker':
      return `start the container without --user (the image starts as root, gives the volume to node and runs as node${runAsSet ? '' : '; set SUPERVISOR_RUN_AS=node'}), or chown the volume to ${who.uid}:${who.gid}`;
    case 'local':
      return `make it writable for uid ${who.uid} (e.g. sudo chown -R ${who.uid}:${who.gid} ${stateDir}), or set OPENCLAW_STATE_DIR to a directory you can write`;
  }
}

/**
 * Refuses to start on a state dir we cannot create or write, with the fix for this platform. Checked
 * before anything is written, so that the token and the config are never the first to find out.
 */
export async function checkStateDirWritable(stateDir: string, platform: PlatformKind, runAsSet: boolean): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await access(stateDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (isOutOfSpace(code)) throw new StartFailure(`cannot create the state dir ${stateDir} (${describeWriteError(code)}): free space and start again`);
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
    const who = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    const reason = code === 'EROFS' ? 'is on a read-only filesystem' : `is not writable for uid ${who.uid}`;
    throw new UsageError(`the state dir ${stateDir} ${reason} (${code}): ${code === 'EROFS' ? 'mount a writable volume there' : unwritableStateDirFix(platform, stateDir, who, runAsSet)}`);
  }
}

/** A mount from /proc/self/mountinfo: where it is mounted and what it is. */
export interface Mount {
  readonly mountPoint: string;
  readonly fsType: string;
}

/** /proc/self/mountinfo's lines (proc(5)): field 5 is the mount point (octal escapes), after " - " the type. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const fields = left?.split(' ') ?? [];
    const mountPoint = fields[4];
    if (mountPoint === undefined || right === undefined) continue;
    mounts.push({ mountPoint: mountPoint.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))), fsType: right.split(' ')[0] ?? '' });
  }
  return mounts;
}

/** The mount that holds `path` (an absolute, resolved path): the longest mount point that contains it. */
export function mountOf(path: string, mounts: readonly Mount[]): Mount | null {
  let best: Mount | null = null;
  for (const mount of mounts) {
    const inside = mount.mountPoint === '/' || path === mount.mountPoint || path.startsWith(`${mount.mountPoint}/`);
    if (inside && (best === null || mount.mountPoint.length > best.mountPoint.length)) best = mount;
  }
  return best;
}

/** Why state written to `stateDir` will not survive a redeploy, or null when it will (or we cannot tell). */
export function stateNotPersistentReason(input: { platform: PlatformKind; stateDir: string; railwayVolume: string | null; mounts: readonly Mount[] | null }): string | null {
  const { platform, stateDir, railwayVolume, mounts } = input;
  const inside = (root: string): boolean => stateDir === root || stateDir.startsWith(`${root.replace(/\/+$/, '')}/`);
  if (platform === 'railway') {
    if (railwayVolume === null) return 'no volume is attached to this Railway service';
    if (!inside(railwayVolume)) return `it is not on the service's volume (RAILWAY_VOLUME_MOUNT_PATH=${railwayVolume})`;
    return null;
  }
  if (platform === 'local' || mounts === null) return null;
  const mount = mountOf(stateDir, mounts);
  // The container's own root filesystem goes with the container; a volume is a mount of its own.
  if (mount !== null && mount.mountPoint === '/') return `it is on the container's own filesystem (${mount.fsType}), not on a volume`;
  return null;
}

/** The real path of the state dir (it exists by now) and this process's mounts; null when /proc is not there. */
export async function readStateMounts(stateDir: string): Promise<{ resolved: string; mounts: Mount[] | null }> {
  const resolved = await realpath(stateDir).catch(() => stateDir);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8').then(parseMountinfo, () => null);
  return { resolved, mounts };
}
