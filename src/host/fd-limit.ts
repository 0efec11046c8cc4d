import { readFileSync, readdirSync } from 'node:fs';

/**
 * File descriptors kept out of the front door's reach: a respawn of the gateway needs
 * ~6 (its stdout/stderr pipes and their ends, execa's own), the liveness and readiness probes one
 * each, the metrics listener, a webhook, the logger, /proc reads. At the limit the spawn fails
 * (EMFILE) and the gateway could not come back; 128 is a generous bound for all of these at once.
 */
export const FD_RESERVE = 128;

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start), or null when unknown/unlimited. */
export function readFdLimit(limitsFile = '/proc/self/limits'): number | null {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return null;
  }
  return parseFdLimit(text);
}

/** The soft limit from /proc/<pid>/limits' "Max open files" row; null for "unlimited" or no such row. */
export function parseFdLimit(limits: string): number | null {
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (row === null) return null;
  const soft = Number(row[1]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
}

/** Descriptors open in this process now, or null when they cannot be counted (at the limit, listing needs one too). */
export function countOpenFds(fdDir = '/proc/self/fd'): number | null {
  try {
    // The listing's own descriptor is in it.
    return Math.max(0, readdirSync(fdDir).length - 1);
  } catch {
    return null;
  }
}

/**
 * How many client connections the front door accepts at once under a descriptor limit: each can
 * cost two (the client's socket and, forwarded or tunnelled, one to the gateway), after the
 * reserve. Null: no limit known, no cap. At least 1, so a tiny limit still serves someone.
 */
export function connectionCap(fdLimit: number | null, reserve = FD_RESERVE): number | null {
  if (fdLimit === null) return null;
  return Math.max(1, Math.floor((fdLimit - reserve) / 2));
}
