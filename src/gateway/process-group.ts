import { readdirSync, readFileSync } from 'node:fs';

/**
 * PIDs of the processes in a process group, from /proc (Linux). Field 5 of /proc/<pid>/stat is the
 * group; the command name before it may contain spaces and parentheses, hence the last ")".
 */
export function groupMembers(pgid: number, proc = '/proc'): number[] {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return members;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`${proc}/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state, [1] the parent, [2] the group; a zombie is already dead.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return members;
}
