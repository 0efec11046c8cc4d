// Heap and GC figures of a process under test, without touching its code: it is started with
// gcProbeArgs() (a --import preload, gc-probe.mjs), and gcSnapshot() asks it, by SIGWINCH, for one
// JSON line of what its garbage collector did since the previous snapshot.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const GC_PROBE = join(import.meta.dirname, 'gc-probe.mjs');

/**
 * Node options that load the probe; `retainMB` also keeps that much inert data alive in the
 * process, `setFlags` (e.g. '--no-incremental-marking') is applied with v8.setFlagsFromString.
 */
export function gcProbeArgs({ retainMB = 0, setFlags = '' } = {}) {
  const query = new URLSearchParams();
  if (retainMB > 0) query.set('retainMB', String(retainMB));
  if (setFlags) query.set('setFlags', setFlags);
  const search = query.toString();
  return [`--import=${pathToFileURL(GC_PROBE).href}${search ? `?${search}` : ''}`];
}

/**
 * The probe's record since the previous call: { ms, scavenges, markCompacts, incrementalSteps,
 * gcCostUs, heapAfterMarkCompactBytes (median, null if none), heapAfterMinBytes, heapUsedBytes }.
 * `proc` is what procs.start() returned (or a supervisor's `proc`).
 */
export function gcSnapshot(proc, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no GC record from pid ${proc.pid} within ${timeoutMs} ms (started without gcProbeArgs()?)`));
    }, timeoutMs);
    const off = proc.onLine((line) => {
      if (!line.startsWith('{"event":"bench.gc"')) return;
      clearTimeout(timer);
      off();
      resolve(JSON.parse(line));
    });
    try {
      process.kill(proc.pid, 'SIGWINCH');
    } catch (error) {
      clearTimeout(timer);
      off();
      reject(error);
    }
  });
}
