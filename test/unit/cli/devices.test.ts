import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDevices } from '../../../src/cli/devices.js';
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

  it('lists pending requests newest first, one line each, with address, platform and age', async () => {
    expect(await runDevices(cli, [])).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('Pending pairing requests (2; 0 paired device(s)):');
    expect(lines[1]).toMatch(/^ {2}req-new {2}from 198\.51\.100\.2, platform linux, .*requested 5 s ago$/);
    expect(lines[2]).toMatch(/^ {2}req-old {2}from 203\.0\.113\.7, platform MacIntel, client openclaw-control-ui \(webchat\), .*requested 10 min ago$/);
  });

  it('approves a request by id after showing what it is', async () => {
    expect(await runDevices(cli, ['approve', 'req-old'])).toBe(0);
    expect(out).toContain('Approving req-old: from 203.0.113.7, platform MacIntel');
    expect(out).toContain('Approved.');
    expect(approvals()).toEqual([['devices', 'approve', 'req-old', '--json']]);
  });

  it('--latest without a terminal approves nothing unless --yes confirms it', async () => {
    expect(await runDevices(cli, ['approve', '--latest'])).toBe(1);
    expect(out).toContain('Latest pending request req-new: from 198.51.100.2');
    expect(err).toContain('Not approved: confirm with --yes');
    expect(approvals()).toEqual([]);
    expect(await runDevices(cli, ['approve', '--latest', '--yes'])).toBe(0);
    expect(approvals()).toEqual([['devices', 'approve', 'req-new', '--json']]);
  });

  it('refuses an unknown id, and bad usage, without approving anything', async () => {
    expect(await runDevices(cli, ['approve', 'req-gone'])).toBe(1);
    expect(err).toContain('No pending pairing request req-gone');
    expect(await runDevices(cli, ['approve'])).toBe(2);
    expect(await runDevices(cli, ['approve', 'req-old', '--latest'])).toBe(2);
    expect(approvals()).toEqual([]);
  });

  it('passes other devices commands to the CLI with their exit code', async () => {
    expect(await runDevices(cli, ['reject', 'req-old'])).toBe(3);
  });
});
