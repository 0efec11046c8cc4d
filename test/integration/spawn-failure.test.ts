import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/supervisor.js';

const SCRIPT = join(ROOT, 'test', 'fixtures', 'spawn-at-fd-limit.mjs');

function runAtFdLimit(limit: number): Promise<{ code: number | null; records: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('prlimit', [`--nofile=${limit}:${limit}`, '--', process.execPath, SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      const records = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, records, stderr });
    });
  });
}

describe('a failed spawn is a failed attempt, not the end of the supervisor', () => {
  it('EMFILE at the spawn: logged with its cause, retried under the restart policy, the gateway starts once descriptors are free', async () => {
    const { code, records, stderr } = await runAtFdLimit(64);
    const events = records.map((record) => record['event']);
    // Before the fix: execa threw "subprocess.stdio is not iterable" out of the runner, and the
    // ChildProcess's unheard 'error' event (EMFILE) ended the process.
    expect(stderr).not.toContain('is not iterable');
    expect(code, stderr).toBe(0);
    const failed = records.find((record) => record['event'] === 'gateway.spawn_failed');
    expect(failed).toMatchObject({ level: 50, code: 'EMFILE', error: 'EMFILE' });
    expect(failed?.['fdLimit']).toBe(64);
    expect(records.find((record) => record['event'] === 'gateway.restart_scheduled')).toMatchObject({ reason: 'spawn-failed', attempt: 1 });
    expect(events.indexOf('gateway.ready')).toBeGreaterThan(events.indexOf('gateway.spawn_failed'));
    expect(records.at(-1)).toMatchObject({ event: 'test.done', code: 0 });
  }, 40_000);
});
