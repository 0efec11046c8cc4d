import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { CLI } from '../helpers/supervisor.js';

/**
 * Issue 22, as a person meets it: `npm start` in a terminal (here `node dist/cli.js`, what npm
 * runs, without npm's four banner lines), the real gateway, a first start with a new state dir.
 * tmux is the terminal: its screen is read as a person reads it (capture-pane), and Ctrl-C is a
 * key press. Before the calm terminal, the screen at ready was 117 lines, 91 of them fields.
 */
const SOCKET = `ocs-screen-${process.pid}`;
const SESSION = 'supervisor';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
/** The whole pane, history included, one screen row per line (a long line wraps into rows, as a person sees it). */
const screen = (target: string): string[] => tmux('capture-pane', '-p', '-S', '-', '-t', target).split('\n');
/** The same with wrapped rows joined back into their line (for reading a command off the screen). */
const joined = (target: string): string[] => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', target).split('\n');
const nonEmpty = (rows: readonly string[]): string[] => rows.filter((row) => row.trim() !== '');
/**
 * What ran in a pane exited, with this status: the shell it runs in prints it. tmux 3.3a was seen
 * to leave a pane's process unreaped (a zombie, #{pane_dead_status} empty) in these runs, so its
 * own account of the exit cannot be waited for.
 */
const EXIT_LINE = /^exit status (\d+)$/;
const exitStatus = (target: string): string | null => screen(target).map((row) => EXIT_LINE.exec(row.trim())?.[1]).find((code) => code !== undefined) ?? null;
/** argv run by a shell that prints its exit status; Ctrl-C reaches the command, the shell waits on (trap). */
const reportingExit = (argv: readonly string[]): string[] => ['sh', '-c', 'trap : INT; "$@"; echo "exit status $?"', 'sh', ...argv];

/** Polls `condition` (cheap: one tmux call) until it holds; fails with the screen after `timeoutMs`. */
async function waitUntil(what: string, condition: () => boolean, target: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms; the screen:\n${screen(target).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A shell command that runs `argv` with exactly `env` (tmux's server has an environment of its own). */
function command(env: Record<string, string>, argv: readonly string[]): string {
  const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;
  return ['exec', 'env', '-i', ...Object.entries(env).map(([key, value]) => quote(`${key}=${value}`)), ...argv.map(quote)].join(' ');
}

describe('the terminal of npm start (tmux, real gateway)', () => {
  afterAll(() => {
    try {
      // A session still running gets SIGHUP, which the supervisor takes as a stop.
      tmux('kill-server');
    } catch {
      // no server left
    }
  });

  it('at ready: a dozen lines at most, with the URL, the command that prints the token and the ready line; Ctrl-C: a few lines and exit 0', async () => {
    const port = await freePort();
    const stateDir = join(mkdtempSync(join(tmpdir(), 'ocs-screen-')), 'state');
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/root',
      HOST: '127.0.0.1',
      PORT: String(port),
      SUPERVISOR_GATEWAY_PORT: String(await freePort()),
      OPENCLAW_STATE_DIR: stateDir,
      SUPERVISOR_STARTUP_TIMEOUT_MS: '120000',
    };
    // A terminal of 160 columns; the pane stays after the process exits, to read its exit status.
    tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '50');
    tmux('set-option', '-wg', 'remain-on-exit', 'on');
    const pane = `${SESSION}:0`;
    tmux('respawn-pane', '-k', '-t', pane, command(env, reportingExit([process.execPath, CLI])));

    await waitUntil('"gateway ready"', () => screen(pane).some((row) => row.includes('gateway ready after')), pane, 150_000);
    const atReady = nonEmpty(screen(pane));
    expect(atReady.length, atReady.join('\n')).toBeLessThanOrEqual(12);
    const readyLine = joined(pane).find((line) => line.includes('gateway ready after')) ?? '';
    expect(readyLine).toContain(`open http://127.0.0.1:${port}/`);
    const tokenCommand = /the token: (.+)$/.exec(readyLine)?.[1]?.trim() ?? '';
    expect(tokenCommand).toBe(`node ${CLI} openclaw gateway auth-token --show`);
    expect(atReady.join('\n')).not.toContain('event:');

    // The command on the screen, typed in a second terminal with the same settings, prints the token.
    tmux('new-window', '-d', '-t', SESSION);
    const second = `${SESSION}:1`;
    tmux('respawn-pane', '-k', '-t', second, command(env, reportingExit(['sh', '-c', tokenCommand])));
    await waitUntil('the token command to finish', () => exitStatus(second) !== null, second, 60_000);
    const token = readFileSync(join(stateDir, 'gateway-token'), 'utf8').trim();
    expect(nonEmpty(screen(second)).some((row) => row.trim() === token), screen(second).join('\n')).toBe(true);
    expect(exitStatus(second)).toBe('0');
    // The token appears where it was asked for, never in the supervisor's log.
    expect(screen(pane).join('\n')).not.toContain(token);

    tmux('send-keys', '-t', pane, 'C-c');
    await waitUntil('the supervisor to exit', () => exitStatus(pane) !== null, pane, 30_000);
    expect(exitStatus(pane)).toBe('0');
    const lines = nonEmpty(joined(pane)).filter((line) => !line.startsWith('Pane is dead') && !EXIT_LINE.test(line.trim()));
    const stop = lines.slice(lines.findIndex((line) => line.includes('gateway ready after')) + 1);
    expect(stop.length, stop.join('\n')).toBeLessThanOrEqual(5);
    const stopText = stop.join('\n');
    expect(stopText).toMatch(/SIGINT received/);
    expect(stopText).toMatch(/drained \(in \d+ ms\)/);
    expect(stopText).toMatch(/exiting with code 0/);
  }, 240_000);
});
