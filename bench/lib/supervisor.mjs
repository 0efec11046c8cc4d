// Starts the built supervisor (dist/cli.js) exactly as a user would, with its own ports and state
// dir, and keeps its JSON log with the bench-side arrival time of each record, so that a benchmark
// can read both the supervisor's own timestamps and when the outside world learnt of an event.
// The pieces the tests use too (paths, free port, environment, log reader) are the tests' own
// harness, test/helpers/supervisor-process.mjs: one harness for both.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { managedNodeBin } from '../../scripts/runtime-path.mjs';
import { CLI as BUILT_CLI, FAKE_GATEWAY, ROOT, createLogReader, freePort, supervisorEnv } from '../../test/helpers/supervisor-process.mjs';
import { start, trackGroup, untrackGroup } from './procs.mjs';

export { FAKE_GATEWAY, ROOT };
// BENCH_CLI measures another build (e.g. a commit's dist/ built elsewhere while dist/ is in flux).
export const CLI = process.env.BENCH_CLI || BUILT_CLI;
const TOKEN = 'bench-token-0123456789abcdef';

/**
 * The Node that runs the supervisor under test: BENCH_NODE when set, else the Node 24 of .runtime/
 * (`npm run runtime`; the image's runtime, node:24-bookworm-slim), else the Node running the bench.
 * Load generators and fixtures keep the bench's own Node: only the processes measured use this one.
 */
export const RUNTIME_NODE = join(managedNodeBin(ROOT), 'node');
export const SUPERVISOR_NODE = process.env.BENCH_NODE || (existsSync(RUNTIME_NODE) ? RUNTIME_NODE : process.execPath);

/**
 * The build's PID 1 module: dist/host/pid1.js since issue 21, dist/cli/pid1.js in older builds. A
 * stale dist/cli/pid1.js left in a tree built before the move fails to load: the current one first.
 */
function importPid1() {
  const at = (folder) => import(pathToFileURL(join(dirname(CLI), folder, 'pid1.js')).href);
  return at('host').catch(() => at('cli'));
}

/**
 * The V8 flags the image's supervisor runs with (its PID 1 hand-over adds them, src/host/pid1.ts), read
 * from the build under test, so every supervisor here runs as the image's does; [] for a build without them.
 */
export const IMAGE_NODE_FLAGS = await importPid1().then(
  (module) => [...(module.SUPERVISOR_NODE_FLAGS ?? [])],
  () => [],
);

/** The allocator environment the image's supervisor gets at its PID 1 hand-over (jemalloc when installed), likewise. */
export const IMAGE_ENV = await importPid1().then(
  (module) => (typeof module.supervisorAllocatorEnv === 'function' ? module.supervisorAllocatorEnv(process.env) : {}),
  () => ({}),
);

/** Extra Node options for every supervisor the bench starts (e.g. BENCH_NODE_ARGS=--no-incremental-marking for an A/B). */
export const BENCH_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * @param {object} options
 * @param {string[] | null} [options.gateway] command after `--`; null: the pinned real openclaw
 * @param {Record<string,string>} [options.env] extra environment (FAKE_*, SUPERVISOR_*)
 * @param {string} [options.node] the Node binary of the supervisor (default SUPERVISOR_NODE)
 * @param {string[]} [options.nodeArgs] Node options before dist/cli.js (V8 flags, --import of the GC probe)
 */
export async function startSupervisor({ gateway = [process.execPath, FAKE_GATEWAY], env = {}, node = SUPERVISOR_NODE, nodeArgs = [] } = {}) {
  const port = await freePort();
  const gatewayPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ocs-bench-state-'));
  const args = [...IMAGE_NODE_FLAGS, ...BENCH_NODE_ARGS, ...nodeArgs, CLI, ...(gateway === null ? [] : ['--', ...gateway])];
  const proc = start(node, args, { env: supervisorEnv({ port, gatewayPort, stateDir, token: TOKEN, extra: { ...IMAGE_ENV, ...env } }) });
  const log = createLogReader({ keepLines: 2000 });
  const records = log.entries;
  const gatewayGroups = new Set();
  proc.onLine((line, at) => {
    const before = records.length;
    log.push(line, at);
    if (records.length === before) return;
    const { record } = records[records.length - 1];
    // The gateway runs in a process group of its own: it must be killed even if the supervisor dies.
    if (record?.event === 'gateway.spawned') {
      trackGroup(record.gatewayPid);
      gatewayGroups.add(record.gatewayPid);
    }
    if (record?.event === 'gateway.exited') {
      untrackGroup(record.gatewayPid);
      gatewayGroups.delete(record.gatewayPid);
    }
  });
  // Its last lines may still be in the pipes when it exits: a wait gives up once they closed.
  void proc.closed.then(() => log.end());

  const sup = {
    proc,
    pid: proc.pid,
    port,
    gatewayPort,
    stateDir,
    token: TOKEN,
    records,
    startedAt: proc.startedAt,
    /** Resolves with `{ record, at }` of the first record of `event` matching `test`. */
    waitFor: (event, test = () => true, timeoutMs = 15_000) => log.waitFor(event, test, timeoutMs),
    events: (event) => records.filter((entry) => entry.record.event === event),
    /** The process groups to kill with it: its own and its gateway's. */
    groups: () => [proc.pid, ...gatewayGroups],
    /** SIGTERM (the graceful stop under test elsewhere), then SIGKILL of everything left. */
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      const result = await proc.stop(signal, graceMs);
      for (const pgid of gatewayGroups) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone with the supervisor
        }
        untrackGroup(pgid);
      }
      rmSync(stateDir, { recursive: true, force: true });
      return result;
    },
  };
  return sup;
}

/** pino's `time` (ISO, ms resolution) as epoch ms. */
export const recordTime = (record) => Date.parse(record.time);
