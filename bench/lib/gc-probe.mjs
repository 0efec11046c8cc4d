// A preload for a process under test (`node --import=<file URL of this>[?retainMB=N] …`): it records
// every garbage collection of the process with v8.GCProfiler (type, cost, heap before and after)
// and, each time the process receives SIGWINCH, prints one JSON line on stdout with what happened
// since the previous SIGWINCH:
//   {"event":"bench.gc","seq":1,"ms":2003.1,"scavenges":120,"markCompacts":3,"incrementalSteps":9,
//    "gcCostUs":5400,"heapAfterMarkCompactBytes":8812345,"heapAfterMarkCompactMaxBytes":…,
//    "heapAfterMinBytes":…,"heapUsedBytes":…}
// (heap after a mark-compact: the median over the window's mark-compacts, null when there was none).
// Nothing of the process itself changes: no src/ edit, no flag. SIGWINCH is a signal that neither
// Node nor the supervisor uses (default action: ignore). The line goes out with one write(2) on fd 1,
// atomic on a pipe, so it never interleaves with the process's own log lines.
//   ?setFlags=F   calls v8.setFlagsFromString(F) first (F: space-separated V8 flags), i.e. a flag
//                 set at run time by the process itself instead of on the node command line
//   ?retainMB=N   also keeps N MB of inert objects alive for the life of the process (plain objects
//                 and strings, never touched again), to show how GC costs move with the heap size.
import { writeSync } from 'node:fs';
import v8 from 'node:v8';

const params = new URL(import.meta.url).searchParams;
const retainMB = Number(params.get('retainMB') ?? 0);
for (const flag of (params.get('setFlags') ?? '').split(' ').filter(Boolean)) v8.setFlagsFromString(flag);

// Inert retained objects: allocated once, reachable from a global, never read.
if (retainMB > 0) {
  const target = retainMB * 1024 * 1024;
  const start = v8.getHeapStatistics().used_heap_size;
  const kept = [];
  let i = 0;
  while (v8.getHeapStatistics().used_heap_size - start < target) {
    const block = new Array(1000);
    for (let j = 0; j < 1000; j++, i++) block[j] = { id: i, name: `inert-${i}`, tags: [i & 7, i & 15] };
    kept.push(block);
  }
  globalThis.__benchRetained = kept;
}

let profiler = new v8.GCProfiler();
profiler.start();
let seq = 0;
let since = performance.now();

process.on('SIGWINCH', () => {
  const data = profiler.stop();
  profiler = new v8.GCProfiler();
  profiler.start();
  const at = performance.now();
  const counts = { scavenges: 0, markCompacts: 0, incrementalSteps: 0, minorMarkSweeps: 0, other: 0 };
  let costUs = 0;
  const heapAfterMarkCompactBytes = [];
  let heapAfterMinBytes = null;
  for (const gc of data?.statistics ?? []) {
    costUs += gc.cost ?? 0;
    const after = gc.afterGC?.heapStatistics?.usedHeapSize ?? null;
    switch (gc.gcType) {
      case 'Scavenge':
        counts.scavenges++;
        break;
      case 'MarkSweepCompact':
        counts.markCompacts++;
        if (after !== null) heapAfterMarkCompactBytes.push(after);
        break;
      case 'IncrementalMarking':
        counts.incrementalSteps++;
        break;
      case 'MinorMarkSweep':
      case 'MinorMarkCompact':
        counts.minorMarkSweeps++;
        break;
      default:
        counts.other++;
    }
    if (after !== null && gc.gcType !== 'IncrementalMarking') heapAfterMinBytes = Math.min(heapAfterMinBytes ?? after, after);
  }
  const line = {
    event: 'bench.gc',
    seq: ++seq,
    ms: at - since,
    ...counts,
    gcCostUs: costUs,
    heapAfterMarkCompactBytes: heapAfterMarkCompactBytes.sort((a, b) => a - b)[Math.floor((heapAfterMarkCompactBytes.length - 1) / 2)] ?? null,
    heapAfterMarkCompactMaxBytes: heapAfterMarkCompactBytes.at(-1) ?? null,
    heapAfterMinBytes,
    heapUsedBytes: v8.getHeapStatistics().used_heap_size,
    retainedMB: retainMB,
    setFlags: params.get('setFlags') ?? '',
  };
  since = at;
  const text = `${JSON.stringify(line)}\n`;
  // fd 1 may be a non-blocking pipe: retry a full pipe (EAGAIN) a bounded number of times.
  for (let attempt = 0; attempt < 1000; attempt++) {
    try {
      writeSync(1, text);
      return;
    } catch (error) {
      if (error?.code !== 'EAGAIN') return;
    }
  }
});
