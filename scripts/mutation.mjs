#!/usr/bin/env node
/**
 * `npm run mutation [-- <src files>]`: StrykerJS over the pure modules (scripts/mutation/modules.mjs)
 * with their unit tests, then a per-file score table and every surviving mutant. Not part of
 * `npm test`. MUTATION_CONCURRENCY sets the workers (default 2).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const report = join(root, 'coverage/mutation/mutation.json');
const files = process.argv.slice(2);
const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');

const started = Date.now();
const run = spawnSync(process.execPath, [stryker, 'run', 'scripts/mutation/stryker.config.mjs'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...(files.length > 0 ? { MUTATION_FILES: files.join(',') } : {}) },
});
if (run.status !== 0) process.exit(run.status ?? 1);
const seconds = Math.round((Date.now() - started) / 1000);

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const result = JSON.parse(readFileSync(report, 'utf8'));
const rows = [];
const survivors = [];
let allDetected = 0;
let allUndetected = 0;
for (const [file, { mutants }] of Object.entries(result.files).sort(([a], [b]) => a.localeCompare(b))) {
  const count = (set) => mutants.filter((m) => set.has(m.status)).length;
  const detected = count(DETECTED);
  const undetected = count(UNDETECTED);
  allDetected += detected;
  allUndetected += undetected;
  const survived = mutants.filter((m) => UNDETECTED.has(m.status));
  rows.push([file, String(mutants.length), String(detected), String(survived.length), score(detected, undetected)]);
  for (const m of survived) {
    const line = m.location.start.line;
    survivors.push(`${file}:${line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${oneLine(m.replacement ?? '')}`);
  }
}
rows.push(['all', String(allDetected + allUndetected), String(allDetected), String(allUndetected), score(allDetected, allUndetected)]);

console.log(`\nMutation score per file (killed or timed out / valid mutants), ${seconds} s:\n`);
table([['file', 'mutants', 'killed', 'survived', 'score'], ...rows]);
if (survivors.length > 0) console.log(`\nSurvivors (file:line:column status mutator: replacement):\n${survivors.join('\n')}`);

function score(detected, undetected) {
  const total = detected + undetected;
  return total === 0 ? 'n/a' : `${((100 * detected) / total).toFixed(1)} %`;
}

function oneLine(text) {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

function table(lines) {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l) => `| ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(fmt(lines[0]));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const l of lines.slice(1)) console.log(fmt(l));
}
