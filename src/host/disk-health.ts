import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * Health of the state directory's file system: free space from statfs, and whether it
 * still takes a write (a probe: a tiny file created exclusively, then removed). statfs gives no
 * mount flags in Node, and a volume can turn read-only under a mounted file system (an ext4 error
 * remount, a detached network disk), so only a write tells.
 */
export interface DiskReading {
  /** Bytes an unprivileged writer may still use (statfs bavail × bsize). */
  readonly freeBytes: number;
  readonly sizeBytes: number;
  /** False when the probe write was refused: EROFS, EACCES, EPERM. */
  readonly writable: boolean;
  /** The probe's error code when it failed (ENOSPC included, which is "low", not "read-only"). */
  readonly writeError: string | null;
}

export interface DiskThresholds {
  /** Low below this share of the file system… */
  readonly fraction: number;
  /** …but never above this many bytes. */
  readonly maxBytes: number;
}

/**
 * Low when free space is under 5 % of the file system, capped at 200 MiB. The share fits small
 * volumes (a 0.5 GB Railway volume: 25 MB left, a few days of gateway logs and SQLite growth, or one
 * WAL checkpoint of a large session store); the cap keeps large disks from warning with gigabytes
 * free: 200 MiB is still hours of the gateway's fastest writing (logs, session rows), time to act.
 */
export const DISK_LOW: DiskThresholds = { fraction: 0.05, maxBytes: 200 * 1024 * 1024 };

/** 60 s: disks fill over hours; one statfs and one tiny write a minute cost nothing. */
export const DEFAULT_DISK_INTERVAL_MS = TIME_BOUNDS.diskCheckInterval.ms;

export function lowThresholdBytes(sizeBytes: number, thresholds: DiskThresholds = DISK_LOW): number {
  return Math.min(Math.floor(sizeBytes * thresholds.fraction), thresholds.maxBytes);
}

export interface DiskCondition {
  readonly low: boolean;
  readonly readOnly: boolean;
}

export const DISK_OK: DiskCondition = { low: false, readOnly: false };

export function assessDisk(reading: DiskReading, thresholds: DiskThresholds = DISK_LOW): DiskCondition {
  return { low: reading.freeBytes < lowThresholdBytes(reading.sizeBytes, thresholds), readOnly: !reading.writable };
}

/** What changed between two conditions: each flag that turned on or off, in a fixed order. */
export type DiskChange = 'low' | 'read-only' | 'space-recovered' | 'writable-again';

export function diskChanges(previous: DiskCondition, current: DiskCondition): DiskChange[] {
  const changes: DiskChange[] = [];
  if (current.readOnly && !previous.readOnly) changes.push('read-only');
  if (!current.readOnly && previous.readOnly) changes.push('writable-again');
  if (current.low && !previous.low) changes.push('low');
  if (!current.low && previous.low) changes.push('space-recovered');
  return changes;
}

const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);
const PROBE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** statfs and a probe write in `dir`; null when the directory cannot be looked at (it is gone, say). */
export async function readDisk(dir: string): Promise<DiskReading | null> {
  let stats: Awaited<ReturnType<typeof statfs>>;
  try {
    stats = await statfs(dir);
  } catch {
    return null;
  }
  const probe = join(dir, `.supervisor-disk-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  let writeError: string | null = null;
  try {
    const handle = await open(probe, PROBE_FLAGS, 0o600);
    try {
      await handle.write('x');
    } finally {
      await handle.close();
      await unlink(probe).catch(() => undefined);
    }
  } catch (error) {
    writeError = (error as NodeJS.ErrnoException).code ?? 'error';
  }
  return {
    freeBytes: stats.bavail * stats.bsize,
    sizeBytes: stats.blocks * stats.bsize,
    writable: writeError === null || !NOT_WRITABLE.has(writeError),
    writeError,
  };
}
