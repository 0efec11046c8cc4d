import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/supervisor.js';

const DRIVER = join(ROOT, 'test', 'fixtures', 'run-attached.mjs');
const REPORTER = join(ROOT, 'test', 'fixtures', 'session-report-cli.mjs');

interface Report {
  readonly self: { pid: number; session: number; ttyNr: number };
  readonly parent: { pid: number; session: number; ttyNr: number };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the openclaw CLI run from a terminal (openclaw-supervisor openclaw …)', () => {
  it('runs in a session of its own, without a controlling terminal, and Ctrl-C on the terminal still stops it (exit 130)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-session-'));
    dirs.push(dir);
    const reportFile = join(dir, 'report');
    // script(1) gives the driver a pseudo-terminal as its controlling terminal (as root's
    // `docker exec -it … bash` does); bytes written to script's stdin are typed on that terminal.
    const term = spawn('script', ['-qefc', `exec ${process.execPath} ${DRIVER} ${REPORTER}`, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', SESSION_REPORT: reportFile },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => term.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "ready" within 20 s: ${output}`)), 20_000);
      term.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(existsSync(reportFile)).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    // The driver has the terminal (else the test proves nothing); the CLI has none, in a new session.
    expect(report.parent.ttyNr).not.toBe(0);
    expect(report.self.ttyNr).toBe(0);
    expect(report.self.session).toBe(report.self.pid);
    expect(report.self.session).not.toBe(report.parent.session);

    term.stdin.write('\u0003');
    expect(await exited).toBe(0);
    expect(output).toMatch(/exit 130\r?\n/);
  });
});
