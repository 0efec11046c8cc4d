import { readFileSync, readdirSync } from 'node:fs';

/** A live process as /proc shows it; zombies (exited, not yet reaped) are reported as such. */
export interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  readonly state: string;
}

function readStat(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0] ?? '?', pgid: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** True while `pid` runs (a zombie does not count: it has exited). */
export function isRunning(pid: number): boolean {
  const info = readStat(pid);
  return info !== null && info.state !== 'Z' && info.state !== 'X';
}

/** Processes of the group `pgid` that still run (zombies excluded), found by scanning /proc. */
export function runningGroupMembers(pgid: number): ProcInfo[] {
  const members: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readStat(Number(entry));
    if (info && info.pgid === pgid && info.state !== 'Z' && info.state !== 'X') members.push(info);
  }
  return members;
}

/** The NUL-separated strings of /proc/<pid>/cmdline or /proc/<pid>/environ. */
export function readProcStrings(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter((part) => part !== '');
}

/** Polls `check` every `intervalMs` until it returns true; false when `timeoutMs` passed first. */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
