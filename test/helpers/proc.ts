import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
}

/** Every process of this machine as /proc shows it from the test's namespace. */
export function listProcesses(): ProcInfo[] {
  const list: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state = '?', ppid = '0', pgid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      list.push({ pid: Number(entry), state, ppid: Number(ppid), pgid: Number(pgid) });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/** pid and every descendant of it. */
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

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
