import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDevices } from '../../../src/cli/devices.js';
import { runAttached, type CliInvocation } from '../../../src/cli/openclaw-cli.js';
import { PAIRING_SCOPE_HINT, needsPairingScope, pairingScopeHint, teeForScopeHint } from '../../../src/cli/scope-hint.js';
import { ROOT } from '../../helpers/supervisor.js';

describe('pairingScopeHint', () => {
  it.each([
    ['the CLI failure line', '[openclaw] Reason: missing scope: operator.pairing', true],
    ['as a JSON error message', '{"ok":false,"error":{"code":"FORBIDDEN","message":"missing scope: operator.pairing"}}', true],
    ['any case, extra spaces', 'Missing Scope:   OPERATOR.PAIRING', true],
    ['another scope', 'missing scope: operator.admin', false],
    ['a longer scope name that starts alike', 'missing scope: operator.pairing-extra', false],
    ['pairing required (not a scope)', 'pairing required: device is not approved yet', false],
    ['nothing', '', false],
  ])('%s → %s', (_name, output, hinted) => {
    expect(pairingScopeHint(output)).toBe(hinted ? PAIRING_SCOPE_HINT : null);
  });

  it('is one line that says what it means and what to do', () => {
    expect(PAIRING_SCOPE_HINT.trimEnd()).not.toContain('\n');
    expect(PAIRING_SCOPE_HINT).toContain('another machine');
    expect(PAIRING_SCOPE_HINT).toContain('openclaw devices list');
    expect(PAIRING_SCOPE_HINT).toContain('devices approve <request id>');
  });

  it.each([
    [['devices', 'list'], true],
    [['nodes', 'pending'], true],
    [['gateway', 'auth-token', '--show'], false],
    [[], false],
  ])('needsPairingScope(%j) → %s', (args, expected) => {
    expect(needsPairingScope(args)).toBe(expected);
  });

  it('teeForScopeHint passes every chunk on and finds the answer split across chunks', async () => {
    const input = new PassThrough();
    const written: string[] = [];
    const out = { write: (chunk: string) => written.push(chunk) } as unknown as NodeJS.WritableStream;
    const seen = teeForScopeHint(input, out);
    input.write('Reason: missing sc');
    input.write('ope: operator.pai');
    input.end('ring\n');
    expect(await seen).toBe(true);
    expect(written.join('')).toBe('Reason: missing scope: operator.pairing\n');
  });
});

describe('the hint after a CLI call (a stand-in openclaw CLI)', () => {
  let err: string;
  let cli: CliInvocation;
  beforeEach(() => {
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    cli = { file: join(ROOT, 'test', 'fixtures', 'fake-openclaw-cli.mjs'), env: { PATH: process.env['PATH'] ?? '', FAKE_CLI_FAIL: 'missing scope: operator.pairing' }, tokenNote: 'x', userConfigPath: '/x' };
  });
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['devices (captured)', () => runDevices(cli, ['list'])],
    ['devices list --json (captured)', () => runDevices(cli, ['list', '--json'])],
    ['openclaw devices reject (attached)', () => runAttached(cli, ['devices', 'reject', 'r1'])],
    ['devices remove through runDevices (attached)', () => runDevices(cli, ['remove', 'd1'])],
  ])('%s: the CLI\'s own error, then the hint', async (_name, run) => {
    expect(await run()).not.toBe(0);
    expect(err).toContain('[openclaw] Reason: missing scope: operator.pairing');
    expect(err.indexOf(PAIRING_SCOPE_HINT)).toBeGreaterThan(err.indexOf('Reason: missing scope'));
  });

  it('no hint for another failure', async () => {
    cli.env['FAKE_CLI_FAIL'] = 'gateway closed (1006)';
    expect(await runDevices(cli, ['list'])).not.toBe(0);
    expect(err).toContain('gateway closed (1006)');
    expect(err).not.toContain(PAIRING_SCOPE_HINT);
  });
});
