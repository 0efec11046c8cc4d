import { readFileSync, readdirSync } from 'node:fs';

/** A process as /proc shows it from the test's namespace; zombies (exited, not reaped) keep state Z. */
export interface ProcInfo {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
}

function readStat(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after its last ')'.
    const [state = '?', ppid = '0', pgid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state, ppid: Number(ppid), pgid: Number(pgid) };
  } catch {
    return null;
  }
}

const alive = (info: ProcInfo): boolean => info.state !== 'Z' && info.state !== 'X';

/** Every process of this machine. */
export function listProcesses(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((info): info is ProcInfo => info !== null);
}

/** True while `pid` runs (a zombie does not count: it has exited). */
export function isRunning(pid: number): boolean {
  const info = readStat(pid);
  return info !== null && alive(info);
}

/** Processes of the group `pgid` that still run (zombies excluded). */
export function runningGroupMembers(pgid: number): ProcInfo[] {
  return listProcesses().filter((info) => info.pgid === pgid && alive(info));
}

/** Every descendant of `pid`. */
export function descendantsOf(pid: number, list = listProcesses()): ProcInfo[] {
  const found: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const info of list.filter((p) => p.ppid === parent)) {
      found.push(info);
      queue.push(info.pid);
    }
  }
  return found;
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
