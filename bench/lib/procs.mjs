// Every process the bench starts goes through here, so that one exit path (normal end, an error,
// Ctrl-C) can kill them all: a benchmark that dies half-way must not leave nginx, a supervisor or a
// gateway holding ports and CPU for the next run.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { eachLine } from '../../test/helpers/supervisor-process.mjs';

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on this machine. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Process groups to SIGKILL at exit (each child is started as the leader of its own group). */
const groups = new Set();

export function trackGroup(pgid) {
  if (pgid > 0) groups.add(pgid);
}
export function untrackGroup(pgid) {
  groups.delete(pgid);
}

function killGroup(pgid, signal = 'SIGKILL') {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function killAll() {
  for (const pgid of groups) killGroup(pgid);
  groups.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: process.kill is.
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: killing every process it started\n`);
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Spawns `file args` as the leader of a new process group (so its own children die with it),
 * tracked for cleanup. `lines(cb)` delivers each stdout/stderr line with its arrival time.
 */
export function start(file, args, { env = process.env, cwd, stdio = 'pipe' } = {}) {
  hookExit();
  const startedAt = now();
  const child = spawn(file, args, { env, cwd, detached: true, stdio: stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : stdio });
  trackGroup(child.pid);
  const listeners = new Set();
  const output = [];
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      const at = now();
      // The group may outlive its leader (a grandchild): it is killed at bench exit, not here.
      resolve({ code, signal, at });
    });
    child.once('error', (error) => resolve({ code: null, signal: null, at: now(), error }));
  });
  const onLine = (line) => {
    const at = now();
    output.push(line);
    if (output.length > 2000) output.splice(0, 1000);
    for (const listener of listeners) listener(line, at);
  };
  // Resolves once both pipes have ended and delivered their last line (no line can come any more).
  const closed = stdio === 'pipe' ? Promise.all([eachLine(child.stdout, onLine), eachLine(child.stderr, onLine)]).then(() => undefined) : exited;
  return {
    child,
    pid: child.pid,
    startedAt,
    exited,
    closed,
    output,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Resolves with the first line matching `test` (already printed lines are not replayed). */
    waitLine(test, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`${file}: no matching line within ${timeoutMs} ms; last lines:\n${output.slice(-10).join('\n')}`));
        }, timeoutMs);
        const off = this.onLine((line, at) => {
          if (!test(line)) return;
          clearTimeout(timer);
          off();
          resolve({ line, at });
        });
        void closed.then(() => {
          clearTimeout(timer);
          off();
          reject(new Error(`${file} ended its output before printing the expected line; last lines:\n${output.slice(-10).join('\n')}`));
        });
      });
    },
    /** Signals the leader, waits up to `graceMs`, then SIGKILLs the whole group. */
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      killGroupLeader(child.pid, signal);
      const result = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      killGroup(child.pid);
      untrackGroup(child.pid);
      return result ?? (await exited);
    },
  };
}

function killGroupLeader(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves with `{ code, stdout, stderr }` of a short-lived command, killed after `timeoutMs`. */
export async function runToEnd(file, args, { env, cwd, timeoutMs = 60_000 } = {}) {
  const proc = start(file, args, { env, cwd });
  const timer = setTimeout(() => killGroup(proc.pid), timeoutMs);
  const result = await proc.exited;
  clearTimeout(timer);
  // Let the pipes deliver their last lines.
  await sleep(20);
  untrackGroup(proc.pid);
  killGroup(proc.pid);
  return { ...result, lines: proc.output };
}

/** Resident set size in bytes, or null once the process is gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100;

/**
 * CPU time in ms used so far by every thread of `pid` (V8's and libuv's threads included).
 * schedstat counts nanoseconds; /proc/<pid>/stat's 10 ms ticks are too coarse for an idle process.
 */
export function cpuMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (ns > 0) return ns / 1e6;
  } catch {
    // no schedstat (kernel without CONFIG_SCHED_INFO): fall back to ticks
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
