import { constants } from 'node:fs';
import { access, chmod, lchown, lstat, mkdir, opendir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../config/usage-error.js';
import { StartFailure } from '../errors.js';
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
  readonly durationMs: number;
}

/**
 * As root, before dropping to `user`: create the state dir and give the user whatever in it an
 * earlier root run left (Railway and Docker mount volumes root-owned; a root `openclaw` command
 * writes root-owned files). lchown, never chown: a link in a volume must not hand its target over,
 * and directories are entered only when they are real ones on the state dir's own filesystem.
 */
export async function prepareStateDirAsRoot(stateDir: string, user: RunAsUser, now: () => number = Date.now): Promise<StateDirRepair> {
  const startedAt = now();
  // Parents are made traversable (0755) as root creates them; the state dir itself is private.
  await mkdir(dirname(stateDir), { recursive: true, mode: 0o755 });
  let created = true;
  try {
    await mkdir(stateDir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  }
  const top = await lstat(stateDir);
  if (!top.isDirectory()) throw new UsageError(`the state dir ${stateDir} is not a directory: point OPENCLAW_STATE_DIR at a directory`);
  let repaired = 0;
  let otherMounts = 0;
  const visit = async (path: string): Promise<void> => {
    const stats = await lstat(path);
    if (stats.dev !== top.dev) {
      otherMounts++;
      return;
    }
    if (stats.uid !== user.uid || stats.gid !== user.gid) {
      await lchown(path, user.uid, user.gid);
      repaired++;
    }
    if (!stats.isDirectory()) return;
    const dir = await opendir(path);
    for await (const entry of dir) await visit(join(path, entry.name));
  };
  await visit(stateDir);
  // The user must be able to enter and write its own state dir whatever mode a root run left.
  if ((top.mode & 0o700) !== 0o700) await chmod(stateDir, (top.mode & 0o7777) | 0o700);
  return { created, repaired, otherMounts, durationMs: now() - startedAt };
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
