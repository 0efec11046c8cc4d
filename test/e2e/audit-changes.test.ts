import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * Issue 18: "audit changes nothing it does not say it changes". The gateway's own audit opens its
 * state database (measured with strace on 2026.9.6: state/openclaw.sqlite created in a fresh state
 * dir, opened read-write, its -wal/-shm made and removed, the file and state/ chmodded), and the
 * supervisor prepares the config as at start. Real gateway CLI.
 */
describe('audit says what it wrote', () => {
  it('on a fresh state dir: the config it created and the gateway\'s state database, in the text and in --json', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'ocs-audit-changes-')), 'state-dir');
    const env = { PATH: process.env['PATH'], HOME: mkdtempSync(join(tmpdir(), 'ocs-audit-home-')), OPENCLAW_STATE_DIR: stateDir };

    const text = await runCli(['audit'], env, 180_000);
    expect(text.timedOut).toBe(false);
    expect(text.stdout).toContain('Written in the state dir and the config while the audit ran');
    expect(text.stdout).toMatch(new RegExp(`\\n  created +${stateDir}/openclaw.json\\n`));
    expect(text.stdout).toMatch(new RegExp(`\\n  created +${stateDir}/state/openclaw.sqlite\\n`));

    const json = await runCli(['audit', '--json'], env, 180_000);
    expect(json.timedOut).toBe(false);
    const report = JSON.parse(json.stdout) as { changes: Array<{ path: string; change: string }>; changesTruncated: boolean };
    expect(report.changesTruncated).toBe(false);
    // The second time the config is unchanged; whatever the gateway's audit touched is listed.
    expect(report.changes.filter((change) => change.path.endsWith('openclaw.json'))).toEqual([]);
    for (const change of report.changes) expect(change.path.startsWith(`${stateDir}/state`)).toBe(true);
  }, 400_000);
});
