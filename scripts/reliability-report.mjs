#!/usr/bin/env node
// Renders RELIABILITY.md from the figures the reliability suite recorded in its last run
// (test/reliability/.last-run.json, written by test/reliability/helpers/figures.ts).
//   npx vitest run test/reliability && npm run reliability:report
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUITE = join(ROOT, 'test', 'reliability');
const FIGURES = join(SUITE, '.last-run.json');
const OUT = join(ROOT, 'RELIABILITY.md');

let data;
try {
  data = JSON.parse(readFileSync(FIGURES, 'utf8'));
} catch (error) {
  process.stderr.write(`reliability-report: cannot read ${FIGURES} (${error.code ?? error.message}): run npx vitest run test/reliability first\n`);
  process.exit(1);
}

const KINDS = [
  ['fault', 'Faults', 'The gateway crashes, hangs, never gets ready, is OOM-killed, refuses its config or finds its port taken.'],
  ['signal', 'Signals', 'Stop signals at awkward moments: each ends in bounded time with the right exit code and a `supervisor.signal` record.'],
  ['backpressure', 'Slow clients and a stalled gateway', '200 MB pushed through a reader that stops reading: the supervisor must stream, not buffer (its RSS from /proc/<pid>/status).'],
  ['load', 'Load', 'Real sockets through the front door to the fake gateway.'],
  ['hostile', 'Hostile input', 'Raw bytes on the public port from a loopback peer. After each group: /healthz 200, same gateway pid, no `gateway.exited`.'],
  ['secrets', 'Secrets', 'The token (`OPENCLAW_GATEWAY_TOKEN`), printed by the gateway on purpose, never shows up where others can read it.'],
];

const scenarios = Object.values(data.scenarios ?? {});
// Every scenario the suite declares, so that one that did not run is visible as missing.
// A table test declares its ids as a template (`hostile.smuggle-in-body-${…}`): a pattern then.
const declared = new Map();
for (const file of readdirSync(SUITE).filter((name) => name.endsWith('.test.ts')).sort()) {
  for (const match of readFileSync(join(SUITE, file), 'utf8').matchAll(/scenario\((?:'([^']+)'|`([^`]+)`),\s*'([^']+)'\)/g)) {
    const id = match[1] ?? match[2];
    const pattern = new RegExp(`^${id.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^()|[\]\\]/g, '\\$&')).join('.+')}$`);
    declared.set(id, { file, kind: match[3], pattern });
  }
}
const isDeclared = (id) => [...declared.values()].some((d) => d.pattern.test(id));
const missing = [...declared.entries()].filter(([, d]) => !scenarios.some((s) => d.pattern.test(s.id))).map(([id]) => id);
const stale = scenarios.filter((s) => !isDeclared(s.id));

const UNITS = [
  [/Ms$/, ' ms'],
  [/Mb$/, ' MB'],
];
const WORDS = { rss: 'RSS', healthz: '/healthz', readyz: '/readyz', http: 'HTTP', ws: 'WS', cgroup: 'cgroup', sigterm: 'SIGTERM', ipv4: 'IPv4', ipv6: 'IPv6' };

function label(key) {
  let name = key;
  for (const [pattern] of UNITS) name = name.replace(pattern, '');
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([a-z])(\d)/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(' ')
    .map((word) => WORDS[word] ?? word)
    .join(' ');
}

function unit(key) {
  for (const [pattern, suffix] of UNITS) if (pattern.test(key)) return suffix;
  return '';
}

function value(key, v) {
  const suffix = unit(key);
  if (v === null || v === undefined) return 'n/a';
  if (Array.isArray(v)) return `${v.join(', ')}${suffix}`;
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${x}`).join(', ');
  if (typeof v === 'number') return `${Number.isInteger(v) ? v : v.toFixed(1)}${suffix}`;
  return `${String(v)}${suffix}`;
}

const escape = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const lostTotal = (s) => Object.values(s.lost ?? {}).reduce((n, x) => n + x, 0);
const title = (s) => s.title.split(' › ').pop();
const ms = (n) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`);

const byId = (id) => data.scenarios?.[id];
const fig = (id, key) => byId(id)?.figures?.[key];
const passed = scenarios.filter((s) => s.status === 'pass');
const failed = scenarios.filter((s) => s.status !== 'pass');
const totalLost = scenarios.reduce((n, s) => n + lostTotal(s), 0);
const inputs = scenarios.reduce((n, s) => n + (s.inputs ?? 0), 0);
const faultsAll = scenarios.filter((s) => s.kind === 'fault' || s.kind === 'signal');
const faultsPassed = faultsAll.filter((s) => s.status === 'pass');
const starts = scenarios.map((s) => Date.parse(s.startedAt));
const ends = scenarios.map((s) => Date.parse(s.startedAt) + s.durationMs);
const windowMs = scenarios.length ? Math.max(...ends) - Math.min(...starts) : 0;
const serialMs = scenarios.reduce((n, s) => n + s.durationMs, 0);

const lines = [];
const out = (...more) => lines.push(...more);

out(
  '# Reliability',
  '',
  'What the supervisor survived in the last run of the reliability suite (`test/reliability/`, part of',
  '`npm test`): real supervisor processes (`node dist/cli.js`) in front of the fake gateway',
  '(`test/fixtures/fake-gateway.mjs`), driven through faults, signals, load and hostile input. Every',
  'scenario asserts its outcome (log records, what clients saw, the exit code); the figures below are',
  'what it measured. Generated by `npm run reliability:report` from `test/reliability/.last-run.json`',
  '(not tracked); regenerate with `npx vitest run test/reliability && npm run reliability:report`.',
  '',
  '## Summary',
  '',
  `- **Scenarios:** ${scenarios.length} run, ${passed.length} passed, ${failed.length} failed${missing.length ? `, ${missing.length} declared but not in this run (${missing.join(', ')})` : ''}.`,
);

const load1000 = byId('load.websockets-1000');
if (load1000) {
  const f = load1000.figures;
  out(
    `- **Load held:** ${f.connections} concurrent WebSockets for ${ms(f.exchangeMs)}: ${f.messagesSent} messages sent, ${f.messagesEchoed} echoed (${f.framesPerSecondBothWays} frames/s through the front door, both ways), ${lostTotal(load1000)} lost, reordered or cut; supervisor RSS ${f.supervisorRssBeforeMb} MB idle → ${f.supervisorRssAllOpenMb} MB with 1000 open → ${f.supervisorRssPeakMb} MB peak.`,
  );
}
const drain1000 = byId('load.websockets-1000-sigterm');
if (drain1000) {
  const f = drain1000.figures;
  out(`- **Drain under load:** SIGTERM with ${f.connections} WebSockets open: close codes ${value('', f.closeCodes)}; ${lostTotal(drain1000)} without a close frame; \`supervisor.drain_finished\` ${value('', f.drainFinished)}; exit ${ms(f.exitAfterSignalMs)} after the signal.`);
}
const httpCrash = byId('load.http-during-crash');
if (httpCrash) {
  const f = httpCrash.figures;
  out(`- **HTTP through a gateway crash:** ${f.requests} requests from 32 clients, ${f.status200} × 200, ${f.status502} × 502, ${f.status503} × 503, ${httpCrash.lost.refusedOrReset ?? 0} refused or reset, ${httpCrash.lost.hung ?? 0} hung (slowest ${f.maxLatencyMs} ms); gateway back ${ms(f.killToReadyMs)} after the SIGKILL.`);
}
const bp = scenarios.filter((s) => s.kind === 'backpressure');
if (bp.length) {
  const growth = Math.max(...bp.map((s) => s.figures.supervisorGrowthMb ?? 0));
  out(`- **Backpressure:** ${bp.length} × 200 MB through readers that stop reading for 2 s; supervisor RSS grew by ${growth} MB at most (bound 100 MB), ${bp.reduce((n, s) => n + lostTotal(s), 0)} bytes or messages missing.`);
}
out(
  `- **Faults survived:** ${faultsPassed.length} of ${faultsAll.length} fault and signal scenarios.`,
  `- **Bad inputs tried:** ${inputs} (malformed requests, oversized headers, injection and smuggling attempts, bad upgrades, dot segments, spoofed forwarding headers, garbage frames, slowloris connections, tokens on command lines); the supervisor stayed up with the same gateway after every group.`,
  `- **Anything lost:** ${totalLost}${totalLost === 0 ? '' : ` (${scenarios.filter((s) => lostTotal(s) > 0).map((s) => `${s.id}: ${JSON.stringify(s.lost)}`).join('; ')})`} — messages, bytes, requests, close frames, health answers or token leaks (each must be 0).`,
  `- **Duration:** ${ms(windowMs)} wall clock for the suite (${ms(serialMs)} of scenario time, files run 2 at a time).`,
  `- **Machine:** ${data.machine.platform}, ${data.machine.cpus} × ${data.machine.cpuModel}, ${Math.round(data.machine.memoryMb / 1024)} GB RAM, Node ${data.machine.node}; last run ${data.updatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}.`,
  '',
);
if (stale.length) out(`> Figures kept from scenarios no longer in the suite: ${stale.map((s) => s.id).join(', ')}.`, '');

for (const [kind, heading, intro] of KINDS) {
  const list = scenarios.filter((s) => s.kind === kind).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  if (list.length === 0) continue;
  out(`## ${heading}`, '', intro, '', '| scenario | result | figures | lost |', '|---|---|---|---|');
  for (const s of list) {
    const figures = Object.entries(s.figures ?? {}).map(([key, v]) => `${label(key)}: ${value(key, v)}`);
    if (s.inputs) figures.push(`inputs: ${s.inputs}`);
    const lost = Object.entries(s.lost ?? {}).map(([key, v]) => `${label(key)}: ${v}`).join(', ') || '–';
    out(`| ${escape(title(s))} | ${s.status === 'pass' ? 'passed' : `**${s.status}**`} (${ms(s.durationMs)}) | ${escape(figures.join('; '))} | ${escape(lost)} |`);
  }
  out('');
}

out(
  '## Notes',
  '',
  '- Only loopback addresses are used, so every peer is local: a spoofed `X-Forwarded-For` is then dropped',
  '  entirely (a loopback client reaches the gateway with no forwarding header, by design). Rebuilding',
  '  the header for a remote peer is covered by the network-namespace tests in `test/e2e/`.',
  '- The supervisor\'s memory is its own process\'s RSS (`VmRSS`, peak `VmHWM`); the gateway\'s is not',
  '  counted (the fake buffers a paused WebSocket\'s echo itself, as a real gateway might).',
  '- The cgroup `memory` field of a SIGKILLed gateway comes from this machine\'s cgroup (v1 here);',
  '  it is logged null-valued where the counters cannot be read.',
  '',
);

writeFileSync(OUT, `${lines.join('\n')}\n`);
process.stdout.write(`wrote ${OUT}: ${scenarios.length} scenarios, ${failed.length} failed, ${totalLost} lost\n`);
if (failed.length > 0 || totalLost > 0) process.exitCode = 1;
