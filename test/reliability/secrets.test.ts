import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { httpRequest } from '../helpers/front-door-clients.js';
import { freePort } from '../helpers/ports.js';
import { pidOf } from '../helpers/records.js';
import { FAKE_GATEWAY, ROOT } from '../helpers/supervisor.js';
import { TEST_TOKEN, descendantCmdlines, start, useSupervisors, type Supervised } from './helpers/common.js';
import { scenario } from './helpers/figures.js';

useSupervisors();

const SEQUENCED_GATEWAY = resolve(ROOT, 'test', 'helpers', 'sequenced-gateway.mjs');
const REDACTED = '[REDACTED]';

/**
 * What the public port answers right now to its own endpoints and to a forwarded path, the token
 * sent along by the client (header, query of an endpoint the supervisor answers itself).
 */
async function collectAnswers(sup: Supervised, into: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const path of ['/healthz', '/readyz', `/readyz?token=${TEST_TOKEN}`, '/some/page']) {
    const res = await httpRequest({ port: sup.port, path, headers: { authorization: `Bearer ${TEST_TOKEN}` }, timeoutMs: 10_000 });
    statuses.push(res.status);
    into.push(JSON.stringify(res.headers), res.body.toString('latin1'));
  }
  return statuses;
}

describe('secrets', () => {
  it('the token never appears in a log line, an answer, /healthz or /readyz, or any command line, through a startup timeout, a crash, an outage and a stop', async () => {
    const fig = scenario('secrets.token-never-leaks', 'secrets');
    const sequence = [
      { FAKE_PRINT_TOKEN: '1', FAKE_NEVER_READY: '1' }, // startup timeout: stderr tail logged
      { FAKE_PRINT_TOKEN: '1', FAKE_EXIT_AFTER_MS: '1200', FAKE_EXIT_CODE: '3' }, // ready, then a crash: stderr tail logged
      { FAKE_PRINT_TOKEN: '1' }, // stays up
    ];
    const sup = await start({
      gateway: [process.execPath, SEQUENCED_GATEWAY],
      env: {
        FAKE_SEQUENCE: JSON.stringify(sequence),
        FAKE_SEQUENCE_FILE: join(mkdtempSync(join(tmpdir(), 'ocs-secrets-')), 'spawns'),
        SUPERVISOR_STARTUP_TIMEOUT_MS: '700',
        SUPERVISOR_RESTART_DELAY_MS: '300',
      },
    });
    const answers: string[] = [];
    const cmdlines: Array<{ pid: number; cmdline: string }> = [];
    const statuses: number[] = [];

    // Starting (not ready): 503 answers, the first gateway running.
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('auth token is'), 10_000);
    cmdlines.push(...descendantCmdlines(sup.process.pid!));
    statuses.push(...(await collectAnswers(sup, answers)));
    await sup.waitFor('gateway.startup_timeout', undefined, 10_000);

    // The second gateway: ready, answers forwarded; then it crashes.
    const second = await sup.waitFor('gateway.ready', undefined, 15_000);
    cmdlines.push(...descendantCmdlines(sup.process.pid!));
    statuses.push(...(await collectAnswers(sup, answers)));
    await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pidOf(second), 10_000);
    // In the backoff: 503 again.
    statuses.push(...(await collectAnswers(sup, answers)));

    // The third one stays up; then a stop.
    await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] !== pidOf(second), 15_000);
    cmdlines.push(...descendantCmdlines(sup.process.pid!));
    statuses.push(...(await collectAnswers(sup, answers)));
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);

    const leakingLines = sup.output.filter((line) => line.includes(TEST_TOKEN));
    const leakingAnswers = answers.filter((text) => text.includes(TEST_TOKEN));
    const leakingCmdlines = cmdlines.filter((c) => c.cmdline.includes(TEST_TOKEN));
    const redactedLines = sup.output.filter((line) => line.includes(REDACTED)).length;
    fig.set('logLines', sup.output.length);
    fig.set('redactedLines', redactedLines);
    fig.set('answersChecked', answers.length / 2);
    fig.set('answerStatuses', [...new Set(statuses)].sort());
    fig.set('commandLinesChecked', cmdlines.length);
    fig.set('stderrTailsLogged', sup.events('gateway.startup_timeout').length + sup.events('gateway.exited').filter((r) => Array.isArray(r['stderrTail'])).length);
    fig.lost('leakingLogLines', leakingLines.length);
    fig.lost('leakingAnswers', leakingAnswers.length);
    fig.lost('leakingCommandLines', leakingCmdlines.length);

    expect(leakingLines).toEqual([]);
    expect(leakingAnswers).toEqual([]);
    expect(leakingCmdlines).toEqual([]);
    // The gateway did print it (stdout and stderr, three times each), and it was replaced every time.
    expect(redactedLines).toBeGreaterThanOrEqual(6);
    expect(sup.events('gateway.startup_timeout')[0]!['stderrTail']).toEqual(expect.arrayContaining([`debug: token=${REDACTED}`]));
    // Command lines of the supervisor, each gateway and its children were seen.
    expect(cmdlines.length).toBeGreaterThanOrEqual(6);
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
  });

  it('a token given on a command line is refused without being echoed', async () => {
    const fig = scenario('secrets.command-line-refusals', 'secrets');
    const base = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      PORT: String(await freePort()),
      SUPERVISOR_GATEWAY_PORT: String(await freePort()),
      OPENCLAW_STATE_DIR: mkdtempSync(join(tmpdir(), 'ocs-secrets-cli-')),
      OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN,
    };
    const fake = [process.execPath, FAKE_GATEWAY];
    const attempts: Array<{ name: string; args: string[]; env?: Record<string, string> }> = [
      { name: '--token=<token>', args: [`--token=${TEST_TOKEN}`, '--', ...fake] },
      { name: '--token <token>', args: ['--token', TEST_TOKEN, '--', ...fake] },
      { name: 'gateway --token <token>', args: ['--', ...fake, '--token', TEST_TOKEN] },
      { name: 'gateway --password=<token>', args: ['--', ...fake, `--password=${TEST_TOKEN}`] },
      { name: 'token with whitespace', args: ['--', ...fake], env: { OPENCLAW_GATEWAY_TOKEN: `${TEST_TOKEN} x` } },
    ];
    const codes: Record<string, number | null> = {};
    for (const attempt of attempts) {
      const result = await runCli(attempt.args, { ...base, ...attempt.env });
      codes[attempt.name] = result.code;
      expect(result.timedOut, attempt.name).toBe(false);
      expect(result.code, attempt.name).toBe(2);
      expect(`${result.stdout}${result.stderr}`, attempt.name).not.toContain(TEST_TOKEN);
      expect(result.stderr, attempt.name).toMatch(/^openclaw-supervisor: /);
    }
    fig.set('exitCodes', codes);
    fig.inputs(attempts.length);
  });
});
