#!/usr/bin/env node
// `npm run bench`: every benchmark, one after the other (never in parallel: 2 cores), a table on
// stdout and bench/results.json. Print only: goals are reported, never asserted.
//   --smoke (or BENCH_SMOKE=1)   each benchmark minimally, < 60 s, for the test suite
//   --only=a,b                   only these benchmarks (ids below)
//   --out=FILE (or BENCH_OUT)    results file, default bench/results.json
//   --md                         also rewrite the generated sections of BENCHMARKS.md
//   --md-only                    only that, from the results file of the last run (runs nothing)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { killAll } from './lib/procs.mjs';
import { drain as drainRealGateway } from './lib/real-gateway-pool.mjs';
import { markdownTable } from './lib/report.mjs';
import { BENCH_NODE_ARGS, CLI, IMAGE_NODE_FLAGS, ROOT, SUPERVISOR_NODE } from './lib/supervisor.mjs';
import { findTools } from './lib/tools.mjs';
import * as readiness from './readiness.mjs';
import * as wsForwarding from './ws-forwarding.mjs';
import * as httpForwarding from './http-forwarding.mjs';
import * as footprint from './footprint.mjs';
import * as stopTime from './stop-time.mjs';
import * as coldStart from './cold-start.mjs';
import * as realGateway from './real-gateway.mjs';
import * as realForwarding from './real-forwarding.mjs';
import * as gcForwarding from './gc-forwarding.mjs';
import * as burstMemory from './burst-memory.mjs';

const BENCHMARKS = [readiness, wsForwarding, httpForwarding, footprint, stopTime, coldStart, realGateway, realForwarding, gcForwarding, burstMemory];

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const smoke = flag('smoke') || process.env.BENCH_SMOKE === '1';
const only = option('only')?.split(',');
const out = option('out') ?? process.env.BENCH_OUT ?? join(ROOT, 'bench', 'results.json');
const log = (message) => process.stderr.write(`  ${message}\n`);

/** Replaces only the generated blocks of BENCHMARKS.md: the analysis around them is written by hand. */
function updateMarkdown(results) {
  const mdPath = join(ROOT, 'BENCHMARKS.md');
  const m = results.machine;
  const benches = Object.values(results.benchmarks).filter((bench) => bench.rows);
  const notes = benches.map((bench) => `- ${bench.title}: ${bench.notes.join('; ')} (${bench.seconds.toFixed(0)} s)`).join('\n');
  const failed = Object.values(results.benchmarks).filter((bench) => bench.error).map((bench) => `- ${bench.title}: FAILED, see the results file`).join('\n');
  const blocks = {
    table: [markdownTable(benches), '', notes, failed].filter((part) => part !== '').join('\n'),
    machine: `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}; Node ${m.node} (bench), ${m.supervisorNode ?? m.node} (supervisor and Node peers)${m.supervisorNodeArgs ? `, supervisor started with ${m.supervisorNodeArgs}` : ''}; ${m.nginx}; ${m.wrk}; load average ${m.loadAverageAtStart.join(' ')} at start, ${m.loadAverageAtEnd?.join(' ') ?? '?'} at end; ${results.mode} run of ${results.startedAt}, ${results.durationSeconds.toFixed(0)} s`,
  };
  let md = readFileSync(mdPath, 'utf8');
  for (const [name, text] of Object.entries(blocks)) {
    md = md.replace(new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`), (_, open, close) => `${open}${text}\n${close}`);
  }
  writeFileSync(mdPath, md);
  process.stdout.write(`${relative(process.cwd(), mdPath) || mdPath} updated\n`);
}

if (flag('md-only')) {
  updateMarkdown(JSON.parse(readFileSync(out, 'utf8')));
  process.exit(0);
}

for (const name of only ?? []) {
  if (!BENCHMARKS.some((bench) => bench.id === name)) {
    process.stderr.write(`bench: unknown benchmark ${name}; known: ${BENCHMARKS.map((bench) => bench.id).join(', ')}\n`);
    process.exit(2);
  }
}

const tools = findTools();
if (tools.missing.length > 0) {
  process.stderr.write(`bench: missing ${tools.missing.join('; ')}.\nThe HTTP and WebSocket benchmarks compare against nginx and load with wrk; install them and rerun.\n`);
  process.exit(1);
}

// The bench measures dist/: a build older than src/ would measure yesterday's code.
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
// Not in smoke mode: it runs inside the test suite, where rewriting dist/ under the feet of other
// test files that start dist/cli.js would make them flaky (and `npm test` builds first anyway).
if (process.env.BENCH_CLI) {
  process.stderr.write(`bench: measuring BENCH_CLI=${CLI}\n`);
} else if (!existsSync(CLI) || newestMtime(join(ROOT, 'src')) > newestMtime(join(ROOT, 'dist'))) {
  if (smoke && existsSync(CLI)) {
    process.stderr.write('bench: warning: dist/ is older than src/ (run npm run build); measuring it as it is\n');
  } else {
    process.stderr.write('bench: dist/ is missing or older than src/: building (npx tsc -p tsconfig.build.json)\n');
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
}

function machine() {
  const cpus = os.cpus();
  // nginx -v prints on stderr, wrk -v exits 1: take the first line printed, whichever stream.
  const version = (file) => {
    const result = spawnSync(file, ['-v'], { encoding: 'utf8' });
    return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0].trim() || null;
  };
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    // The Node that runs the supervisor and its Node peers (Node 24 from .runtime/, like the image).
    supervisorNode: spawnSync(SUPERVISOR_NODE, ['-v'], { encoding: 'utf8' }).stdout?.trim() || null,
    supervisorNodeArgs: [...IMAGE_NODE_FLAGS, ...BENCH_NODE_ARGS].join(' '),
    nginx: version(tools.nginx),
    wrk: version(tools.wrk)?.split(' [')[0] ?? null,
    loadAverageAtStart: os.loadavg().map((value) => Number(value.toFixed(2))),
  };
}

const startedAt = Date.now();
const results = { mode: smoke ? 'smoke' : 'full', startedAt: new Date(startedAt).toISOString(), machine: machine(), benchmarks: {} };
const done = [];
let failed = false;
process.stderr.write(`bench (${results.mode}) on ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${process.version}, supervisor on Node ${results.machine.supervisorNode}${BENCH_NODE_ARGS.length ? ` ${BENCH_NODE_ARGS.join(' ')}` : ''}\n`);
for (const bench of BENCHMARKS) {
  if (only && !only.includes(bench.id)) continue;
  const benchStart = Date.now();
  process.stderr.write(`${bench.title}\n`);
  try {
    const result = await bench.run({ smoke, log, tools });
    const seconds = (Date.now() - benchStart) / 1000;
    results.benchmarks[bench.id] = { title: bench.title, seconds, figures: result.figures, rows: result.rows, notes: result.notes ?? [] };
    done.push({ title: bench.title, rows: result.rows });
    log(`done in ${seconds.toFixed(1)} s`);
  } catch (error) {
    // One broken benchmark must not cost the others' figures; the failure is in the results.
    failed = true;
    results.benchmarks[bench.id] = { title: bench.title, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    process.stderr.write(`  FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    killAll();
  }
}
// Benchmark 7 parks its last real gateway for benchmark 8: stop it if 8 did not run.
await drainRealGateway();
killAll();
results.durationSeconds = (Date.now() - startedAt) / 1000;
// Other work on the machine moves every figure: the load average says how quiet the run was.
results.machine.loadAverageAtEnd = os.loadavg().map((value) => Number(value.toFixed(2)));

const table = markdownTable(done);
process.stdout.write(`\n${table}\n\n${BENCHMARKS.filter((b) => results.benchmarks[b.id]?.notes?.length).map((b) => `${b.title}: ${results.benchmarks[b.id].notes.join('; ')}`).join('\n')}\n`);
process.stdout.write(`\n${results.mode} run: ${results.durationSeconds.toFixed(1)} s; results in ${relative(process.cwd(), out) || out}\n`);
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

if (flag('md')) updateMarkdown(results);
process.exit(failed ? 1 : 0);
