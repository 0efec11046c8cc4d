import { chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { diffSnapshots, snapshotTree } from '../../src/fs/tree-snapshot.js';

/** uid 1000's name here (node in the image), from passwd. */
const nameOf1000 = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':')).find((fields) => fields[2] === '1000')?.[0];

/**
 * Issue 18: `audit` run as root in a container whose supervisor runs as uid 1000 left root-owned
 * 0600 files in the state dir (the gateway's state database), and the supervisor then exited 2.
 */
describe.runIf(process.getuid?.() === 0 && nameOf1000 !== undefined)('audit as another user than the state\'s', () => {
  it('is refused before anything is written, naming the owner and the command to run as it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ocs-audit-owner-'));
    writeFileSync(join(stateDir, 'gateway-token'), 'a-token-of-the-supervisor-1234\n', { mode: 0o600 });
    writeFileSync(join(stateDir, 'openclaw.json'), '{}\n', { mode: 0o600 });
    mkdirSync(join(stateDir, 'state'), { mode: 0o700 });
    for (const path of [stateDir, join(stateDir, 'gateway-token'), join(stateDir, 'openclaw.json'), join(stateDir, 'state')]) chownSync(path, 1000, 1000);
    const before = await snapshotTree([stateDir]);

    const result = await runCli(['--state-dir', stateDir, 'audit'], { PATH: process.env['PATH'], HOME: process.env['HOME'] ?? '/root' }, 60_000);

    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`audit runs as root (uid 0), but ${join(stateDir, 'state')} in the state dir belongs to ${nameOf1000} (uid 1000)`);
    expect(result.stderr).toContain(`runuser -u ${nameOf1000} -- node `);
    expect(result.stderr).toContain(`--state-dir ${stateDir} audit`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(diffSnapshots(before, await snapshotTree([stateDir]))).toEqual([]);
  });
});
