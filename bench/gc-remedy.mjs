#!/usr/bin/env node
// The GC-threshold study of issue 10, rerunnable: how much CPU a Node proxy spends per forwarded
// response (100 KB and 1 MB bodies), how many full mark-compacts it runs per 1000 responses and
// its heap left after GC, for a bare proxy and for the supervisor, with 0 / 2 / 8 MB of extra inert
// objects in the heap, under candidate V8 flags given on the node command line or set at run time
// (v8.setFlagsFromString from a preload). Every variant is its own process, all alive at once;
// rounds visit them in a rotated order so that no variant always runs first or last.
//   node bench/gc-remedy.mjs [--kinds=bare,supervisor] [--retain=0,2,8] [--flags=none,no-incremental-marking]
//                            [--bodies=100k,1m] [--rounds=3] [--seconds=2] [--connections=10] [--out=FILE]
// Prints one line per variant and body and writes the medians as JSON (default bench/gc-remedy.json).
// Loopback only; bounded: rounds × variants × bodies wrk runs of --seconds each.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gcProbeArgs, gcSnapshot } from './lib/gc.mjs';
import { startPeer } from './lib/peers.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { cpuMs, killAll, rssBytes, start } from './lib/procs.mjs';
import { fmt, median } from './lib/stats.mjs';
import { FAKE_GATEWAY, ROOT, SUPERVISOR_NODE, startSupervisor } from './lib/supervisor.mjs';
import { findTools } from './lib/tools.mjs';
import { runWrk } from './lib/wrk.mjs';
import { execFileSync } from 'node:child_process';

/** Candidate remedies: V8 flags on the command line (`args`) or applied at run time (`setFlags`). */
export const FLAG_SETS = {
  none: {},
  'no-incremental-marking': { args: ['--no-incremental-marking'] },
  'semi-space-1': { args: ['--max-semi-space-size=1'] },
  'semi-space-2': { args: ['--max-semi-space-size=2'] },
  'semi-space-4': { args: ['--max-semi-space-size=4'] },
  'semi-space-8': { args: ['--max-semi-space-size=8'] },
  'semi-space-16': { args: ['--max-semi-space-size=16'] },
  'semi-space-32': { args: ['--max-semi-space-size=32'] },
  'semi-space-64': { args: ['--max-semi-space-size=64'] },
  'min-semi-space-16': { args: ['--min-semi-space-size=16', '--max-semi-space-size=16'] },
  'initial-old-space-16': { args: ['--initial-old-space-size=16'] },
  'initial-old-space-32': { args: ['--initial-old-space-size=32'] },
  'initial-old-space-64': { args: ['--initial-old-space-size=64'] },
  'initial-old-space-32+no-incremental-marking': { args: ['--initial-old-space-size=32', '--no-incremental-marking'] },
  'runtime-initial-old-space-32': { setFlags: '--initial-old-space-size=32' },
  'initial-heap-64': { args: ['--initial-heap-size=64'] },
  'no-memory-reducer': { args: ['--no-memory-reducer'] },
  'external-in-global-limit': { args: ['--external-memory-accounted-in-global-limit'] },
  'runtime-no-incremental-marking': { setFlags: '--no-incremental-marking' },
  'runtime-semi-space-4': { setFlags: '--max-semi-space-size=4' },
  'runtime-semi-space-32': { setFlags: '--max-semi-space-size=32' },
  'runtime-semi-space-64': { setFlags: '--max-semi-space-size=64' },
  'semi-space-1+no-incremental-marking': { args: ['--max-semi-space-size=1', '--no-incremental-marking'] },
  'semi-space-2+no-incremental-marking': { args: ['--max-semi-space-size=2', '--no-incremental-marking'] },
  // The allocator instead of a flag (supervisor kind only): jemalloc returns freed pages by decay.
  jemalloc: { env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
};
const BODIES = { '1k': 1024, '100k': 100 * 1024, '1m': 1024 * 1024 };

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const list = (name, fallback) => option(name, fallback).split(',').filter(Boolean);
const kinds = list('kinds', 'bare,supervisor');
const retains = list('retain', '0,2,8').map(Number);
const flagNames = list('flags', 'none,no-incremental-marking,semi-space-32,initial-old-space-64');
const bodies = list('bodies', '100k,1m');
const rounds = Number(option('rounds', '3'));
const seconds = Number(option('seconds', '2'));
const connections = Number(option('connections', '10'));
const out = option('out', join(ROOT, 'bench', 'gc-remedy.json'));
for (const name of flagNames) if (!FLAG_SETS[name]) throw new Error(`unknown flag set ${name}; known: ${Object.keys(FLAG_SETS).join(', ')}`);

const tools = findTools();
if (!tools.wrk) throw new Error('wrk is missing (apt-get install -y wrk)');
const nodeVersion = execFileSync(SUPERVISOR_NODE, ['-v'], { encoding: 'utf8' }).trim();
process.stderr.write(`gc-remedy on Node ${nodeVersion} (${SUPERVISOR_NODE}): ${kinds.join('/')} × retain ${retains.join('/')} MB × ${flagNames.join(', ')}; ${rounds} round(s) × ${seconds} s × ${bodies.join('/')}, ${connections} connections\n`);

const variants = [];
let upstream = null;
try {
  // One fake gateway behind every bare proxy (the supervisors spawn their own, as in production).
  const gatewayPort = await freePort();
  if (kinds.includes('bare')) {
    upstream = start(process.execPath, [FAKE_GATEWAY, '--port', String(gatewayPort)], { env: { ...process.env, FAKE_READY_AFTER_MS: '0' } });
    await waitForPort(gatewayPort);
  }
  for (const kind of kinds) {
    for (const retainMB of retains) {
      for (const flags of flagNames) {
        const set = FLAG_SETS[flags];
        const nodeArgs = [...(set.args ?? []), ...gcProbeArgs({ retainMB, setFlags: set.setFlags })];
        const name = `${kind} +${retainMB} MB ${flags}`;
        if (kind === 'supervisor') {
          const sup = await startSupervisor({ nodeArgs, env: { FAKE_READY_AFTER_MS: '0', ...(set.env ?? {}) } });
          await sup.waitFor('gateway.ready');
          variants.push({ name, kind, retainMB, flags, port: sup.port, pid: sup.pid, proc: sup.proc, stop: () => sup.stop() });
        } else {
          const peer = await startPeer(kind, gatewayPort, { nodeArgs });
          variants.push({ name, kind, retainMB, flags, port: peer.port, pid: peer.pid, proc: peer.proc, stop: peer.stop });
        }
      }
    }
  }
  const url = (v, body) => `http://127.0.0.1:${v.port}/bytes?n=${BODIES[body]}`;
  // Warm-up: JIT, keep-alive pools and heap growth settled before anything counts.
  for (const v of variants) for (const body of bodies) await runWrk(tools.wrk, url(v, body), { connections, seconds: 1 });
  const samples = new Map(variants.map((v) => [v, Object.fromEntries(bodies.map((b) => [b, []]))]));
  for (let r = 0; r < rounds; r++) {
    for (const body of bodies) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const v of order) {
        await gcSnapshot(v.proc);
        const cpu0 = cpuMs(v.pid);
        const w = await runWrk(tools.wrk, url(v, body), { connections, seconds });
        const cpu = cpuMs(v.pid) - cpu0;
        const gc = await gcSnapshot(v.proc);
        const sample = {
          rps: w.rps,
          p99us: w.p99us,
          errors: w.errors,
          cpuUsPerResponse: (cpu * 1000) / w.requests,
          markCompactsPer1000: (gc.markCompacts * 1000) / w.requests,
          scavengesPer1000: (gc.scavenges * 1000) / w.requests,
          gcCostUsPerResponse: gc.gcCostUs / w.requests,
          heapAfterGcMB: (gc.heapAfterMarkCompactBytes ?? gc.heapAfterMinBytes ?? Number.NaN) / 2 ** 20,
          heapUsedMB: gc.heapUsedBytes / 2 ** 20,
          rssMB: (rssBytes(v.pid) ?? Number.NaN) / 2 ** 20,
        };
        samples.get(v)[body].push(sample);
      }
      process.stderr.write(`  round ${r + 1}/${rounds} ${body} done\n`);
    }
  }
  const results = [];
  for (const v of variants) {
    for (const body of bodies) {
      const s = samples.get(v)[body];
      const m = (key) => median(s.map((x) => x[key]));
      const row = {
        kind: v.kind,
        retainMB: v.retainMB,
        flags: v.flags,
        body,
        rps: m('rps'),
        p99us: m('p99us'),
        cpuUsPerResponse: m('cpuUsPerResponse'),
        markCompactsPer1000: m('markCompactsPer1000'),
        scavengesPer1000: m('scavengesPer1000'),
        gcCostUsPerResponse: m('gcCostUsPerResponse'),
        heapAfterGcMB: m('heapAfterGcMB'),
        heapUsedMB: m('heapUsedMB'),
        rssMB: m('rssMB'),
        errors: s.reduce((sum, x) => sum + x.errors, 0),
        perRound: s.map((x) => Math.round(x.cpuUsPerResponse)),
      };
      results.push(row);
      process.stdout.write(
        `${v.name.padEnd(70)} ${body.padEnd(4)} CPU ${fmt(row.cpuUsPerResponse, 'µs').padStart(9)}/resp (rounds ${row.perRound.join(' ')})  MC ${fmt(row.markCompactsPer1000).padStart(5)}/1000  scav ${fmt(row.scavengesPer1000).padStart(5)}/1000  GC ${fmt(row.gcCostUsPerResponse, 'µs').padStart(7)}/resp  heap ${fmt(row.heapAfterGcMB, 'MB')} (used ${fmt(row.heapUsedMB, 'MB')}, RSS ${fmt(row.rssMB, 'MB')})  ${fmt(row.rps)}/s p99 ${fmt(row.p99us, 'µs')}${row.errors ? `  ERRORS ${row.errors}` : ''}\n`,
      );
    }
  }
  writeFileSync(out, `${JSON.stringify({ node: nodeVersion, startedAt: new Date().toISOString(), rounds, seconds, connections, results }, null, 2)}\n`);
  process.stderr.write(`results in ${out}\n`);
} finally {
  for (const v of variants) await v.stop().catch(() => undefined);
  await upstream?.stop();
  killAll();
}
process.exit(0);
