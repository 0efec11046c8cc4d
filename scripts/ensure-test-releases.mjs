#!/usr/bin/env node
// Installs the older openclaw releases the release tests step between (package.json
// "openclawTestReleases") into .runtime/releases/<version>/, once, as the store would
// (npm install under Node 24). Why: test/e2e/releases.test.ts runs them for real, and installing
// each from the registry in every run would cost ~25 s apiece; the test copies them into each
// state volume's store instead. Idempotent: a release whose package is there is skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { managedNodeBin, withNodeFirst } from './runtime-path.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const releases = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).openclawTestReleases ?? [];
const cache = join(root, '.runtime', 'releases');
const nodeBin = managedNodeBin(root);
const log = (msg) => process.stderr.write(`[ensure-test-releases] ${msg}\n`);
const installedVersion = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', 'openclaw', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

for (const version of releases) {
  const target = join(cache, version);
  if (installedVersion(target) === version) continue;
  const partial = `${target}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), '{"private":true}\n');
  const started = Date.now();
  log(`installing openclaw@${version} into .runtime/releases/ (once)`);
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--loglevel=error', `openclaw@${version}`], {
      cwd: partial,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PATH: withNodeFirst(nodeBin, process.env.PATH) },
    });
  } catch (error) {
    log(`failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; the npm registry must be reachable`);
    process.exit(1);
  }
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  log(`openclaw@${version} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
