import { describe, expect, it } from 'vitest';
import { helpText, settingLine } from '../../../src/cli/help.js';
import { SETTINGS, invalid, parseInteger } from '../../../src/config/settings.js';
import { UsageError } from '../../../src/errors.js';
import { expectMentions, usageErrorOf } from '../usage-error-assert.js';

const specs = Object.entries(SETTINGS);

describe('SETTINGS table', () => {
  it.each(specs)('%s: env and flag are well formed, help is present', (_key, spec) => {
    expect(spec.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(spec.flag).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(spec.help.length).toBeGreaterThan(10);
  });

  it.each(specs)('%s: the default is stated once, in its default field (the help text says none)', (_key, spec) => {
    expect(spec.default).not.toBe('');
    expect(spec.help).not.toMatch(/\bdefault\b/i);
  });

  it('--help prints each setting with its default, from the row', () => {
    const help = helpText('0.0.0');
    expect(help).toContain(settingLine(SETTINGS.drainTimeoutMs));
    expect(settingLine(SETTINGS.drainTimeoutMs)).toMatch(/deadline for the whole graceful stop \(default: RAILWAY_DEPLOYMENT_DRAINING_SECONDS×1000 − 2000 \(min\(2 s, ¼\) margin\); 28000 on Kubernetes; else 8000\)$/);
    expect(settingLine(SETTINGS.publicPort)).toMatch(/ \(default: 8080\)$/);
    expect(settingLine(SETTINGS.tokenFile)).not.toContain('default');
    for (const spec of Object.values(SETTINGS)) expect(help).toContain(settingLine(spec));
  });

  it('has no duplicate environment variables or flags', () => {
    const envs = specs.map(([, s]) => s.env);
    const flags = specs.map(([, s]) => s.flag);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(flags).size).toBe(flags.length);
  });

  it('has no --token flag (the token never comes from a command line)', () => {
    expect(specs.map(([, s]) => s.flag)).not.toContain('token');
    expect(specs.map(([, s]) => s.env)).not.toContain('OPENCLAW_GATEWAY_TOKEN');
  });
});

describe('invalid', () => {
  it('builds a UsageError with exit code 2 naming origin, quoted value and what is allowed', () => {
    const error = invalid('PORT', 'a"b', 'expected a port');
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('PORT="a\\"b" is invalid: expected a port');
  });
});

describe('parseInteger', () => {
  it.each<[string, number]>([
    ['1', 1],
    ['10', 10],
    [' 42 ', 42],
    ['007', 7],
    ['100', 100],
  ])('accepts %j → %d', (raw, value) => {
    expect(parseInteger(raw, 'X', 1, 100, 'a thing')).toBe(value);
  });

  it.each(['0', '101', '', ' ', '-1', '+1', '1.0', '1e2', '0x10', 'ten', '1 0', '99999999999999999999'])('rejects %j', (raw) => {
    expectMentions(
      usageErrorOf(() => parseInteger(raw, 'SOME_SETTING', 1, 100, 'a thing')),
      [`SOME_SETTING=${JSON.stringify(raw)} is invalid`, 'expected a thing (an integer from 1 to 100)'],
    );
  });
});

describe('setting parsers', () => {
  it.each<[keyof typeof SETTINGS, string, unknown]>([
    ['publicPort', '8080', 8080],
    ['host', '::', '::'],
    ['host', ' [fd00::1] ', 'fd00::1'],
    ['host', 'my-host.internal', 'my-host.internal'],
    ['host', '10.0.0.1', '10.0.0.1'],
    ['tokenFile', ' /run/secrets/token ', '/run/secrets/token'],
    ['logLevel', ' Warn ', 'warn'],
    ['logFields', ' 1 ', true],
    ['logFields', 'Off', false],
    ['restartFactor', '1', 1],
    ['restartFactor', ' 2.5 ', 2.5],
    ['restartLimitBurst', '1000', 1000],
    ['trustedProxies', '', []],
    ['trustedProxies', '::ffff:10.0.0.1', ['::ffff:10.0.0.1']],
    ['trustedProxies', '10.0.0.1/8,', ['10.0.0.1/8']],
    ['allowedOrigins', 'http://127.0.0.1:8080', ['http://127.0.0.1:8080']],
    ['allowedOrigins', 'https://a.example,https://b.example/', ['https://a.example', 'https://b.example']],
    ['allowedOrigins', 'https://Example.UP.railway.app,https://a.example:443', ['https://example.up.railway.app', 'https://a.example']],
  ])('%s parses %j', (key, raw, value) => {
    expect(SETTINGS[key].parse(raw, 'ORIGIN')).toEqual(value);
  });

  it.each<[keyof typeof SETTINGS, string, string]>([
    ['publicPort', '65536', 'an integer from 1 to 65535'],
    ['host', 'a b', 'IP address or host name'],
    ['host', '[]', 'IP address or host name'],
    ['host', 'under_score', 'IP address or host name'],
    ['tokenFile', '\t', 'non-empty'],
    ['logLevel', 'loud', 'expected one of trace'],
    ['logFields', 'all', 'expected 1 or 0'],
    ['restartFactor', '1.', 'from 1 to 10'],
    ['restartFactor', '.5', 'from 1 to 10'],
    ['restartFactor', '10.5', 'from 1 to 10'],
    ['restartLimitBurst', '1001', 'an integer from 1 to 1000'],
    ['trustedProxies', '10.0.0.0/8, 300.0.0.0/8', '"300.0.0.0/8" is not an IP address or CIDR range'],
    ['trustedProxies', '10.0.0.0/ 8', 'is not an IP address or CIDR range'],
    ['allowedOrigins', 'https://a.example?x=1', 'is not an origin'],
    ['allowedOrigins', 'https://user@a.example', 'is not an origin'],
    ['allowedOrigins', 'null', 'is not an origin'],
  ])('%s rejects %j', (key, raw, allowed) => {
    expectMentions(usageErrorOf(() => SETTINGS[key].parse(raw, 'ORIGIN')), [`ORIGIN=${JSON.stringify(raw)} is invalid`, allowed]);
  });
});
