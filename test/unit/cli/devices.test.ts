import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideLatest, runDevices } from '../../../src/cli/devices.js';
import { EXIT } from '../../../src/exit-codes.js';
import type { CliInvocation } from '../../../src/cli/openclaw-cli.js';
import { ROOT } from '../../helpers/supervisor.js';

const FAKE_CLI = join(ROOT, 'test', 'fixtures', 'fake-openclaw-cli.mjs');
const NOW = Date.now();
const PENDING = [
  { requestId: 'req-old', deviceId: 'd'.repeat(64), platform: 'MacIntel', clientId: 'openclaw-control-ui', clientMode: 'webchat', role: 'operator', scopes: ['operator.admin'], remoteIp: '203.0.113.7', ts: NOW - 600_000 },
  { requestId: 'req-new', deviceId: 'e'.repeat(64), platform: 'linux', clientId: 'gateway-client', clientMode: 'backend', role: 'operator', scopes: [], remoteIp: '198.51.100.2', ts: NOW - 5_000 },
];

describe('devices (with a stand-in openclaw CLI)', () => {
  let out: string;
  let err: string;
  let calls: string;
  let cli: CliInvocation;

  beforeEach(() => {
    out = '';
    err = '';
    calls = join(mkdtempSync(join(tmpdir(), 'ocs-devices-')), 'calls');
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    cli = {
      file: FAKE_CLI,
      env: { PATH: process.env['PATH'] ?? '', FAKE_DEVICES_PENDING: JSON.stringify(PENDING), FAKE_DEVICES_CALLS: calls, OPENCLAW_GATEWAY_PORT: '18789' },
      tokenNote: 'OPENCLAW_GATEWAY_TOKEN',
      userConfigPath: '/x/openclaw.json',
    };
  });
  afterEach(() => vi.restoreAllMocks());
  const approvals = (): string[][] =>
    readFileSync(calls, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[])
      .filter((argv) => argv[1] === 'approve');

  it('lists pending requests newest first, the request id first, then address, platform and first seen', async () => {
    expect(await runDevices(cli, [])).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('Pending pairing requests (2; 0 paired device(s)), newest first:');
    expect(lines[1]).toBe('  request req-new');
    expect(lines[2]).toMatch(/^ {6}from 198\.51\.100\.2, platform linux, .*first seen 5 s ago$/);
    expect(lines[3]).toBe('  request req-old');
    expect(lines[4]).toMatch(/^ {6}from 203\.0\.113\.7, platform MacIntel, client openclaw-control-ui \(webchat\), .*first seen 10 min ago$/);
    expect(out).toContain('Approve only the request id that your browser shows');
  });

  it('shows every client-chosen string escaped and bounded', async () => {
    const hostile = { ...PENDING[1]!, requestId: 'req-\u001b[2K', platform: `linux\r\u001b[2K\u001b[8mMacIntel\u202e${'x'.repeat(300)}`, clientId: 'a\u009bb', displayName: '\u2066evil\u2069' };
    cli.env['FAKE_DEVICES_PENDING'] = JSON.stringify([PENDING[0], hostile]);
    expect(await runDevices(cli, [])).toBe(0);
    expect(out).toContain('platform linux\\r\\x1b[2K\\x1b[8mMacIntel\\u202e');
    expect(out).toContain('request req-\\x1b[2K');
    expect(out).toContain('client a\\x9bb');
    expect(out).toContain('name "\\u2066evil\\u2069"');
    expect(out).not.toMatch(/[\r\u001b\u009b\u202a-\u202e\u2066-\u2069]/);
    expect(out).not.toContain('x'.repeat(100));
  });

  it('approves a request by id after showing what it is', async () => {
    expect(await runDevices(cli, ['approve', 'req-old'])).toBe(0);
    expect(out).toContain('Approving req-old: from 203.0.113.7, platform MacIntel');
    expect(out).toContain('Approved.');
    expect(approvals()).toEqual([['devices', 'approve', 'req-old', '--json']]);
  });

  it('--latest with more than one request pending refuses (bad input), lists them all escaped and approves nothing, even with --yes', async () => {
    const hostile = { ...PENDING[1]!, platform: 'linux\r\u001b[2K\u001b[8mMacIntel' };
    cli.env['FAKE_DEVICES_PENDING'] = JSON.stringify([PENDING[0], hostile]);
    expect(await runDevices(cli, ['approve', '--latest'])).toBe(EXIT.badInput);
    expect(await runDevices(cli, ['approve', '--latest', '--yes'])).toBe(EXIT.badInput);
    expect(err).toContain('2 requests are pending, so --latest cannot tell which one is yours');
    expect(err).toContain('request req-old');
    expect(err).toContain('request req-new');
    expect(err).toContain('platform linux\\r\\x1b[2K\\x1b[8mMacIntel');
    expect(err + out).not.toMatch(/[\r\u001b]/);
    expect(approvals()).toEqual([]);
  });

  it('--latest with exactly one request shows it, approves nothing without a terminal unless --yes confirms it', async () => {
    cli.env['FAKE_DEVICES_PENDING'] = JSON.stringify([PENDING[1]]);
    expect(await runDevices(cli, ['approve', '--latest'])).toBe(1);
    expect(out).toContain('The only pending request: req-new: from 198.51.100.2');
    expect(err).toContain('Not approved: confirm with --yes');
    expect(approvals()).toEqual([]);
    expect(await runDevices(cli, ['approve', '--latest', '--yes'])).toBe(0);
    expect(approvals()).toEqual([['devices', 'approve', 'req-new', '--json']]);
  });

  it('--latest with nothing pending says so', async () => {
    cli.env['FAKE_DEVICES_PENDING'] = '[]';
    expect(await runDevices(cli, ['approve', '--latest', '--yes'])).toBe(1);
    expect(err).toContain('No pending pairing request to approve.');
    expect(approvals()).toEqual([]);
  });

  it('refuses an unknown id, and bad usage, without approving anything', async () => {
    expect(await runDevices(cli, ['approve', 'req-gone'])).toBe(1);
    expect(err).toContain('No pending pairing request req-gone');
    expect(await runDevices(cli, ['approve'])).toBe(2);
    expect(await runDevices(cli, ['approve', 'req-old', '--latest'])).toBe(2);
    expect(approvals()).toEqual([]);
  });

  const calls_ = (): string[][] =>
    readFileSync(calls, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);

  it('devices list --json goes through the supervisor: the same JSON values, nothing a terminal acts on or hides left raw', async () => {
    const tag = String.fromCodePoint(0xe0041);
    const hostile = { ...PENDING[1]!, platform: `linux\r\u001b[2K\u009b8m\u007f\u202eMac${tag}\u00ad`, displayName: '\u3164' };
    cli.env['FAKE_DEVICES_PENDING'] = JSON.stringify([PENDING[0], hostile]);
    expect(await runDevices(cli, ['list', '--json'])).toBe(0);
    expect(JSON.parse(out)).toEqual({ pending: [PENDING[0], hostile], paired: [] });
    expect(out).not.toMatch(/[\r\u001b\u007f-\u009f\u202a-\u202e\u00ad\u3164\u{e0000}-\u{e007f}]/u);
    expect(out).toContain('linux\\r\\u001b[2K\\u009b8m\\u007f\\u202eMac\\udb40\\udc41\\u00ad');
    expect(calls_()).toEqual([['devices', 'list', '--json']]);
  });

  it('devices list with other flags is printed by the supervisor too (escaped), the flags passed on', async () => {
    const hostile = { ...PENDING[1]!, platform: 'linux\r\u001b[2KMacIntel' };
    cli.env['FAKE_DEVICES_PENDING'] = JSON.stringify([hostile]);
    expect(await runDevices(cli, ['list', '--timeout', '5000'])).toBe(0);
    expect(out).toContain('platform linux\\r\\x1b[2KMacIntel');
    expect(out).not.toMatch(/[\r\u001b]/);
    expect(calls_()).toEqual([['devices', 'list', '--timeout', '5000', '--json']]);
  });

  it('passes other devices commands to the CLI with their exit code', async () => {
    expect(await runDevices(cli, ['reject', 'req-old'])).toBe(3);
  });
});

describe('decideLatest', () => {
  const request = (id: string, ts: number) => ({ requestId: id, ts });
  it.each([
    ['nothing pending', [], 'none'],
    ['exactly one', [request('a', 1)], 'one'],
    ['two: the newest could be a stranger\'s', [request('a', 1), request('b', 2)], 'many'],
    ['six', [1, 2, 3, 4, 5, 6].map((i) => request(`r${i}`, i)), 'many'],
  ] as const)('%s → %s', (_name, pending, kind) => {
    expect(decideLatest(pending).kind).toBe(kind);
  });
});
