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

const CGROUP_ROOT = '/sys/fs/cgroup';

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

/** Unlimited in cgroup v1 is a huge number, not "max". */
const UNLIMITED_V1 = 2 ** 60;

/**
 * The container's memory from cgroup v2 (memory.current, memory.max, memory.events) or, on hosts
 * still on v1, from the memory controller's equivalents. The cgroup of this process is tried
 * first, then the mount's root (inside a container's cgroup namespace, the root is the container).
 */
export function readMemoryEvidence(root = CGROUP_ROOT, selfCgroup = '/proc/self/cgroup'): MemoryEvidence | null {
  let v2Path = '/';
  let v1Path = '/';
  try {
    for (const line of readFileSync(selfCgroup, 'utf8').split('\n')) {
      const [id, controllers, path = '/'] = line.split(':');
      if (id === '0' && controllers === '') v2Path = path;
      if (controllers?.split(',').includes('memory')) v1Path = path;
    }
  } catch {
    // no /proc: fall back to the roots
  }
  for (const dir of [`${root}${v2Path}`, root]) {
    const currentBytes = readNumber(`${dir}/memory.current`);
    if (currentBytes === null) continue;
    const events = readEvents(`${dir}/memory.events`);
    return { currentBytes, maxBytes: readNumber(`${dir}/memory.max`), oom: events['oom'] ?? null, oomKill: events['oom_kill'] ?? null };
  }
  for (const dir of [`${root}/memory${v1Path}`, `${root}/memory`]) {
    const currentBytes = readNumber(`${dir}/memory.usage_in_bytes`);
    if (currentBytes === null) continue;
    const limit = readNumber(`${dir}/memory.limit_in_bytes`);
    const control = readEvents(`${dir}/memory.oom_control`);
    return { currentBytes, maxBytes: limit === null || limit >= UNLIMITED_V1 ? null : limit, oom: control['under_oom'] ?? null, oomKill: control['oom_kill'] ?? null };
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
