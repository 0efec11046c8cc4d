import { existsSync, mkdtempSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { FAKE_GATEWAY, TEST_TOKEN } from '../helpers/supervisor.js';

const FAKE = ['--', process.execPath, FAKE_GATEWAY];

let base: Record<string, string | undefined>;
beforeAll(async () => {
  base = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    PORT: String(await freePort()),
    SUPERVISOR_GATEWAY_PORT: String(await freePort()),
    OPENCLAW_STATE_DIR: mkdtempSync(join(tmpdir(), 'ocs-cli-')),
    OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN,
  };
});

/** A usage error: one line on stderr, nothing on stdout, no stack trace, the given exit code. */
function expectOneLineError(result: CliResult, code: number, ...mentions: string[]): void {
  expect(result.timedOut, `still running: stdout ${result.stdout.slice(0, 500)}`).toBe(false);
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  const [line] = lines as [string];
  expect(line).toMatch(/^openclaw-supervisor: /);
  expect(line).not.toMatch(/internal error|\bat .+:\d+:\d+/);
  for (const mention of mentions) expect(line).toContain(mention);
}

describe('the supervisor refuses bad input with one clear line', () => {
  const cases: Array<{ name: string; env?: Record<string, string | undefined>; args?: string[]; code: number; mentions: string[] }> = [
    { name: 'PORT=abc', env: { PORT: 'abc' }, code: 2, mentions: ['PORT', '"abc"'] },
    { name: 'PORT=70000', env: { PORT: '70000' }, code: 2, mentions: ['PORT', '70000', '65535'] },
    { name: 'SUPERVISOR_STARTUP_TIMEOUT_MS=0', env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '0' }, code: 2, mentions: ['SUPERVISOR_STARTUP_TIMEOUT_MS', '"0"'] },
    { name: 'SUPERVISOR_STARTUP_TIMEOUT_MS=-5', env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '-5' }, code: 2, mentions: ['SUPERVISOR_STARTUP_TIMEOUT_MS', '"-5"'] },
    { name: 'OPENCLAW_GATEWAY_TOKEN=""', env: { OPENCLAW_GATEWAY_TOKEN: '' }, code: 2, mentions: ['OPENCLAW_GATEWAY_TOKEN', 'empty'] },
    {
      name: 'OPENCLAW_GATEWAY_TOKEN_FILE=/nonexistent',
      env: { OPENCLAW_GATEWAY_TOKEN_FILE: '/nonexistent' },
      code: 2,
      mentions: ['OPENCLAW_GATEWAY_TOKEN_FILE', '/nonexistent', 'ENOENT'],
    },
    { name: '--bogus', args: ['--bogus'], code: 2, mentions: ['--bogus'] },
    { name: 'OPENCLAW_CONFIG_PATH under a file', env: { OPENCLAW_CONFIG_PATH: '/proc/version/openclaw.json' }, code: 2, mentions: ['/proc/version/openclaw.json', 'ENOTDIR'] },
    // A syntactically impossible address fails here, not at listen (exit 1).
    { name: 'HOST=999.1.1.1', env: { HOST: '999.1.1.1' }, code: 2, mentions: ['HOST="999.1.1.1"', 'IP address or host name', 'looks like an IPv4 address'] },
  ];
  for (const c of cases) {
    it(`${c.name} → exit ${c.code}`, async () => {
      const result = await runCli([...(c.args ?? []), ...FAKE], { ...base, ...c.env });
      expectOneLineError(result, c.code, ...c.mentions);
    });
  }

  it('a dangling openclaw.json symlink in the state dir → exit 2, naming the link and its missing target', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ocs-cli-link-'));
    const link = join(stateDir, 'openclaw.json');
    const missing = join(stateDir, 'config-volume', 'openclaw.json');
    symlinkSync(missing, link);
    const result = await runCli(FAKE, { ...base, OPENCLAW_STATE_DIR: stateDir });
    expectOneLineError(result, 2, link, 'symbolic link', `${missing}, which does not exist`);
    expect(result.stderr).not.toContain('writable');
    expect(readlinkSync(link)).toBe(missing);
    expect(existsSync(missing)).toBe(false);
  });

  it('PORT equal to SUPERVISOR_GATEWAY_PORT → exit 2', async () => {
    const result = await runCli(FAKE, { ...base, PORT: '18001', SUPERVISOR_GATEWAY_PORT: '18001' });
    expectOneLineError(result, 2, 'PORT=18001', 'SUPERVISOR_GATEWAY_PORT=18001');
  });

  it('a gateway command that does not exist → exit 127, naming the path tried', async () => {
    const result = await runCli(['--', '/no/such/binary'], base);
    expectOneLineError(result, 127, '/no/such/binary');
  });

  it('a gateway command that sets --port itself → exit 2, explaining that the supervisor owns it', async () => {
    const result = await runCli(['--', 'node', 'x.js', '--port', '1'], base);
    expectOneLineError(result, 2, '--port', 'owns', 'SUPERVISOR_GATEWAY_PORT');
  });

  it('never echoes a malformed token', async () => {
    const result = await runCli(FAKE, { ...base, OPENCLAW_GATEWAY_TOKEN: 'short 1' });
    expectOneLineError(result, 2, 'OPENCLAW_GATEWAY_TOKEN');
    expect(result.stderr).not.toContain('short 1');
  });
});
