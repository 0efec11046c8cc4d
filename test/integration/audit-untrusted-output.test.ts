import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/supervisor.js';

// A file that anyone running as node can create in the state dir while the audit runs (the running
// gateway, an agent): its name rewrites the line a person reads, if printed raw.
const HOSTILE_NAME = 'x\r\u001b[2K\u001b[32mNothing was written\u001b[0m\u001b[8m\u202e\u009b';
// What a terminal acts on or hides (ESC, CR, C1, bidi).
const ACTIVE = /[\r\u001b\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * A copy of the built supervisor whose managed openclaw (.runtime/…/.bin/openclaw) is a stand-in:
 * it creates HOSTILE_NAME in the state dir and reports one finding with the same text.
 */
function installWithStandIn(dir: string): string {
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const bin = join(dir, '.runtime', 'openclaw', 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'openclaw'),
    `#!${process.execPath}
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const name = ${JSON.stringify(HOSTILE_NAME)};
writeFileSync(join(process.env.OPENCLAW_STATE_DIR, name), '');
process.stdout.write(JSON.stringify({ summary: { warn: 1 }, findings: [{ checkId: 'x' + name, severity: 'warn', title: name, detail: 'a\\n' + name, remediation: name }] }));
`,
    { mode: 0o755 },
  );
  return join(dir, 'dist', 'cli.js');
}

describe('audit output with a hostile state dir name and gateway texts (stand-in openclaw)', () => {
  let dir: string;
  let cli: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocs-audit-out-'));
    cli = installWithStandIn(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const audit = (stateDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const run = spawnSync(process.execPath, [cli, '--state-dir', stateDir, 'audit', ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, OPENCLAW_GATEWAY_TOKEN: 'audit-test-token-0123456789abcdef' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  it('the text report shows the name and the finding escaped', () => {
    const run = audit(join(dir, 'state-text'));
    expect(run.stdout, run.stderr).toContain('created  ');
    expect(run.stdout).toContain('x\\r\\x1b[2K\\x1b[32mNothing was written\\x1b[0m\\x1b[8m\\u202e\\x9b');
    expect(run.stdout).not.toMatch(ACTIVE);
  });

  it('--json keeps the values (a program reads the exact name) with nothing raw for a terminal', () => {
    const run = audit(join(dir, 'state-json'), '--json');
    expect(run.stdout).not.toMatch(ACTIVE);
    const report = JSON.parse(run.stdout) as { changes: { path: string }[]; gateway: { findings: { title: string }[] } };
    expect(report.changes.map((change) => change.path)).toContain(join(dir, 'state-json', HOSTILE_NAME));
    expect(report.gateway.findings[0]!.title).toBe(HOSTILE_NAME);
  });
});
