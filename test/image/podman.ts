import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** podman's settings for these machines (runc, lower ulimits, no systemd); /etc stays untouched. */
export const CONTAINERS_CONF = join(import.meta.dirname, 'containers.conf');
/** Every container, volume, pod and secret the image test makes carries this label (leftovers of a killed run are found by it). */
export const TEST_LABEL = 'org.openclaw-supervisor.test=image';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

// podman 4.3 warns about the CNI config of the host (netavark is used) and about the periodic
// healthchecks it cannot schedule without systemd (`podman healthcheck run` works): noise here.
const NOISE = [/Error validating CNI config file/, /unable to get systemd connection to (add|start) healthchecks/];
const withoutNoise = (text: string): string =>
  text
    .split('\n')
    .filter((line) => !NOISE.some((noise) => noise.test(line)))
    .join('\n');

/** Runs podman with the test's containers.conf; never throws for a non-zero exit (the caller judges). */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      'podman',
      args,
      { env: { ...process.env, CONTAINERS_CONF }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: withoutNoise(stderr), ms: performance.now() - started });
      },
    );
  });
}

/** podman, and its stdout when it exited 0; else an error with what it said. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const run = await podman(args, timeoutMs);
  if (run.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${run.code}: ${run.stderr.trim() || run.stdout.trim()}`);
  return run.stdout;
}

/** Removes what the image test made (containers first: they hold the volumes and secrets). */
export async function removeLabelled(): Promise<void> {
  const ids = async (args: string[]): Promise<string[]> => (await podman(args)).stdout.split('\n').filter((id) => id !== '');
  const pods = await ids(['pod', 'ps', '-q', '--filter', `label=${TEST_LABEL}`]);
  if (pods.length > 0) await podman(['pod', 'rm', '--force', '--time', '0', ...pods]);
  const containers = await ids(['ps', '-aq', '--filter', `label=${TEST_LABEL}`]);
  if (containers.length > 0) await podman(['rm', '--force', '--time', '0', ...containers]);
  const volumes = await ids(['volume', 'ls', '-q', '--filter', `label=${TEST_LABEL}`]);
  if (volumes.length > 0) await podman(['volume', 'rm', '--force', ...volumes]);
}

export interface ContainerProcess {
  readonly pid: number;
  readonly name: string;
  /** Real, effective, saved and filesystem uid. */
  readonly uids: readonly number[];
  readonly state: string;
  readonly rssKiB: number;
}

/**
 * Every process in the PID namespace of the container whose PID 1 is `hostPid`, read from the
 * host's /proc (nothing inside the container is trusted to report on itself).
 */
export function processesInPidNamespaceOf(hostPid: number): ContainerProcess[] {
  const namespace = readlinkSync(`/proc/${hostPid}/ns/pid`);
  const processes: ContainerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== namespace) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      processes.push({
        pid: Number(entry),
        name: field('Name'),
        uids: field('Uid').split(/\s+/).map(Number),
        state: field('State').charAt(0),
        rssKiB: Number.parseInt(field('VmRSS'), 10) || 0,
      });
    } catch {
      // The process ended while being read.
    }
  }
  return processes;
}

/** A figure of the container's memory cgroup (v1 on these machines), in bytes, or null when not readable. */
export function cgroupMemoryOf(hostPid: number, file: 'memory.usage_in_bytes' | 'memory.limit_in_bytes'): number | null {
  const line = readFileSync(`/proc/${hostPid}/cgroup`, 'utf8')
    .split('\n')
    .find((entry) => /^\d+:memory:/.test(entry));
  if (line === undefined) return null;
  try {
    return Number(readFileSync(join('/sys/fs/cgroup/memory', line.slice(line.indexOf(':memory:') + 8), file), 'utf8'));
  } catch {
    return null;
  }
}
