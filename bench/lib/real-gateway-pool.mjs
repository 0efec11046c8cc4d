// Starting the real gateway takes ~10 s (far more on a busy machine): benchmark 7 parks the
// supervisor of its last run here instead of stopping it, and benchmark 8 takes it over. A parked
// supervisor is outside procs.mjs' per-benchmark cleanup (run.mjs calls killAll() between
// benchmarks), so it is killed here at exit, and drain() stops it when nobody took it.
import { trackGroup, untrackGroup } from './procs.mjs';

let parked = null;

function killParked() {
  for (const pgid of parked?.groups() ?? []) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
let hooked = false;

/** Keeps a running supervisor (with its real gateway) for the next benchmark. */
export function park(sup) {
  if (!hooked) {
    hooked = true;
    process.on('exit', killParked);
  }
  parked = sup;
  for (const pgid of sup.groups()) untrackGroup(pgid);
}

/** The parked supervisor if it is still running (tracked for cleanup again), else null. */
export function take() {
  const sup = parked;
  parked = null;
  if (sup === null) return null;
  for (const pgid of sup.groups()) trackGroup(pgid);
  const child = sup.proc.child;
  if (child.exitCode !== null || child.signalCode !== null) return null;
  return sup;
}

/** Stops a supervisor nobody took. */
export async function drain() {
  const sup = take();
  if (sup) await sup.stop('SIGTERM', 15_000);
}
