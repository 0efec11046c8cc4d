import { readFileSync } from 'node:fs';
import { isRailway } from './platform.js';

/** The container's memory as its cgroup counts it; OOM kills show up in `oomKill`. */
export interface MemoryEvidence {
  readonly currentBytes: number | null;
  readonly maxBytes: number | null;
  readonly oom: number | null;
  readonly oomKill: number | null;
}

export interface RailwayEvidence {
  readonly deploymentId: string | null;
  readonly replicaId: string | null;
  readonly drainingSeconds: number | null;
}

type Env = Readonly<Record<string, string | undefined>>;

function readNumber(path: string): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null; // memory.max is "max" when unlimited
  } catch {
    return null;
  }
}

function readEvents(path: string): Record<string, number> {
  try {
    const events: Record<string, number> = {};
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [key, value] = line.split(' ');
      if (key && value) events[key] = Number(value);
    }
    return events;
  } catch {
    return {};
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Unlimited in cgroup v1 is a huge number, not "max". */
const UNLIMITED_V1 = 2 ** 60;

/** Where this process's own memory cgroup is mounted, by cgroup version; null where it is not visible or is a root. */
export interface OwnMemoryCgroup {
  readonly v2: string | null;
  readonly v1: string | null;
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040). */
const unescapeMountPath = (path: string): string => path.replace(/\\([0-7]{3})/g, (_all, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** The directory of cgroup `path` under a mount of its hierarchy whose root is `mountRoot`, or null when the mount does not show it. */
function under(mount: { root: string; point: string }, path: string): string | null {
  if (mount.root === '/') return path === '/' ? mount.point : `${mount.point}${path}`;
  if (path === mount.root) return mount.point;
  return path.startsWith(`${mount.root}/`) ? `${mount.point}${path.slice(mount.root.length)}` : null;
}

/**
 * This process's own memory cgroup directory, from /proc/self/cgroup (which cgroup) and
 * /proc/self/mountinfo (where its hierarchy is mounted, and which part of it: a container on cgroup
 * v1 sees its own cgroup bind-mounted as the mount's root). Never a cgroup that merely contains it:
 * its parent, or the mount's root, counts other processes too (on a host: all of them, 3 GB for an
 * app of 300 MB). A process in the v1 root cgroup gets null: the root counts the whole host. The v2
 * root is kept: the kernel gives the host's root no memory.current, so where it has one the root is
 * a cgroup namespace's, i.e. the container's own cgroup (Docker and Kubernetes on cgroup v2).
 */
export function ownMemoryCgroup(selfCgroup: string, mountinfo: string): OwnMemoryCgroup {
  let v2Path: string | null = null;
  let v1Path: string | null = null;
  for (const line of selfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (match === null) continue;
    const [, id, controllers = '', path = ''] = match;
    if (id === '0' && controllers === '') v2Path = path;
    else if (controllers.split(',').includes('memory')) v1Path = path;
  }
  let v2: string | null = null;
  let v1: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const [, , , root, point] = before.split(' ');
    const [fsType, , superOptions = ''] = after.split(' ');
    if (root === undefined || point === undefined) continue;
    const mount = { root: unescapeMountPath(root), point: unescapeMountPath(point) };
    if (fsType === 'cgroup2' && v2Path !== null && v2 === null) v2 = under(mount, v2Path);
    if (fsType === 'cgroup' && v1Path !== null && v1 === null && v1Path !== '/' && superOptions.split(',').includes('memory')) v1 = under(mount, v1Path);
  }
  return { v2, v1 };
}

/**
 * The memory of this process's own cgroup (ownMemoryCgroup): cgroup v2's memory.current,
 * memory.max and memory.events, or v1's equivalents; null when that cgroup is not visible, is the
 * v1 root, or has no such files (the host's v2 root has none). Never the host's memory.
 */
export function readMemoryEvidence(selfCgroup = '/proc/self/cgroup', mountinfo = '/proc/self/mountinfo'): MemoryEvidence | null {
  const own = ownMemoryCgroup(readText(selfCgroup), readText(mountinfo));
  if (own.v2 !== null) {
    const currentBytes = readNumber(`${own.v2}/memory.current`);
    if (currentBytes !== null) {
      const events = readEvents(`${own.v2}/memory.events`);
      return { currentBytes, maxBytes: readNumber(`${own.v2}/memory.max`), oom: events['oom'] ?? null, oomKill: events['oom_kill'] ?? null };
    }
  }
  if (own.v1 !== null) {
    const currentBytes = readNumber(`${own.v1}/memory.usage_in_bytes`);
    if (currentBytes !== null) {
      const limit = readNumber(`${own.v1}/memory.limit_in_bytes`);
      const control = readEvents(`${own.v1}/memory.oom_control`);
      return { currentBytes, maxBytes: limit === null || limit >= UNLIMITED_V1 ? null : limit, oom: control['under_oom'] ?? null, oomKill: control['oom_kill'] ?? null };
    }
  }
  return null;
}

/**
 * Railway's context, or null when not on Railway (src/host/platform.ts decides). `drainingSeconds`
 * is the one value resolveConfig parsed from RAILWAY_DEPLOYMENT_DRAINING_SECONDS.
 */
export function readRailwayEvidence(env: Env, drainingSeconds: number | null): RailwayEvidence | null {
  if (!isRailway(env)) return null;
  return { deploymentId: env['RAILWAY_DEPLOYMENT_ID'] ?? null, replicaId: env['RAILWAY_REPLICA_ID'] ?? null, drainingSeconds };
}
