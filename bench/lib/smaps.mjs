// Where a process's resident memory sits, read from /proc/<pid>/smaps (nothing in the process
// changes): glibc's main malloc arena (the brk heap: Buffers' backing stores, native objects), the
// other anonymous mappings (V8's heap pages, thread stacks, the malloc arenas of V8's and libuv's
// threads), and file mappings (the node binary's code, shared libraries).
import { readFileSync } from 'node:fs';

const MB = 1024 * 1024;

/** @returns {{ mallocMB: number, anonMB: number, fileMB: number } | null} null once the process is gone */
export function residentByKind(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const kB = { malloc: 0, anon: 0, file: 0 };
  let kind = null;
  for (const line of text.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[1];
      kind = name === '[heap]' ? 'malloc' : name.startsWith('/') ? 'file' : name === '' ? 'anon' : null;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind !== null) kB[kind] += Number(rss[1]);
  }
  return { mallocMB: (kB.malloc * 1024) / MB, anonMB: (kB.anon * 1024) / MB, fileMB: (kB.file * 1024) / MB };
}
