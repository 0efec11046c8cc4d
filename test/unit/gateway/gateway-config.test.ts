import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_PROXIES, prepareGatewayConfig, withRequiredKeys } from '../../../src/gateway/gateway-config.js';

const REQUIRED = { trustedProxies: [...LOOPBACK_PROXIES, '10.0.0.0/8'], allowedOrigins: ['https://app.example'] };
const stateDir = (): string => mkdtempSync(join(tmpdir(), 'ocs-config-'));
const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

describe('withRequiredKeys', () => {
  it('adds missing entries and keeps every value of the user', () => {
    const user = { gateway: { trustedProxies: ['192.0.2.1'], mode: 'local', controlUi: { allowedOrigins: ['https://mine.example'], basePath: '/ui' } }, agents: { defaults: { maxConcurrent: 3 } } };
    const merged = withRequiredKeys(user, REQUIRED);
    expect(merged?.changed).toBe(true);
    expect(merged?.config).toEqual({
      gateway: {
        trustedProxies: ['192.0.2.1', '127.0.0.1', '::1', '10.0.0.0/8'],
        mode: 'local',
        controlUi: { allowedOrigins: ['https://mine.example', 'https://app.example'], basePath: '/ui' },
      },
      agents: { defaults: { maxConcurrent: 3 } },
    });
    expect(user.gateway.trustedProxies).toEqual(['192.0.2.1']);
  });

  it('reports no change when everything is there', () => {
    const config = { gateway: { trustedProxies: ['::1', '127.0.0.1', '10.0.0.0/8'], controlUi: { allowedOrigins: ['https://app.example'] } } };
    expect(withRequiredKeys(config, REQUIRED)).toEqual({ config, changed: false });
  });

  it.each([
    ['a root $include', { $include: './base.json' }],
    ['a non-object gateway', { gateway: 'x' }],
    ['a non-array trustedProxies', { gateway: { trustedProxies: '127.0.0.1' } }],
    ['a non-array allowedOrigins', { gateway: { controlUi: { allowedOrigins: 'https://a.example' } } }],
    ['an array', []],
  ])('refuses to edit %s', (_name, config) => {
    expect(withRequiredKeys(config, REQUIRED)).toBeNull();
  });
});

describe('prepareGatewayConfig', () => {
  it('creates the gateway config in the state dir when there is none (mode 0600)', async () => {
    const dir = stateDir();
    const prepared = await prepareGatewayConfig(dir, null, REQUIRED);
    expect(prepared).toEqual({ configPath: join(dir, 'openclaw.json'), includeRoots: [], mode: 'created', userConfigPath: join(dir, 'openclaw.json') });
    expect(readJson(prepared.configPath)['gateway']).toEqual({ trustedProxies: REQUIRED.trustedProxies, controlUi: { allowedOrigins: REQUIRED.allowedOrigins } });
    expect(statSync(prepared.configPath).mode & 0o777).toBe(0o600);
  });

  it('adds the entries to a JSON config, keeps a backup, and leaves it alone the next time', async () => {
    const dir = stateDir();
    const path = join(dir, 'user.json');
    const original = JSON.stringify({ gateway: { trustedProxies: ['192.0.2.1'] }, agents: { defaults: { maxConcurrent: 2 } } });
    writeFileSync(path, original);
    const first = await prepareGatewayConfig(dir, path, REQUIRED);
    expect(first).toMatchObject({ configPath: path, mode: 'updated' });
    expect(readJson(path)['agents']).toEqual({ defaults: { maxConcurrent: 2 } });
    expect(readJson(path)['gateway']['trustedProxies']).toEqual(['192.0.2.1', ...REQUIRED.trustedProxies]);
    expect(readFileSync(`${path}.supervisor-backup`, 'utf8')).toBe(original);
    const written = readFileSync(path, 'utf8');
    expect(await prepareGatewayConfig(dir, path, REQUIRED)).toMatchObject({ mode: 'unchanged' });
    expect(readFileSync(path, 'utf8')).toBe(written);
  });

  it('never rewrites a JSON5 config: a generated overlay $includes it', async () => {
    const dir = stateDir();
    const userDir = stateDir();
    const path = join(userDir, 'openclaw.json5');
    const json5 = '{\n  // mine\n  gateway: { mode: "local" },\n}\n';
    writeFileSync(path, json5);
    const prepared = await prepareGatewayConfig(dir, path, REQUIRED);
    expect(prepared).toEqual({ configPath: join(dir, 'supervisor', 'openclaw.overlay.json'), includeRoots: [userDir], mode: 'overlay', userConfigPath: path });
    expect(readFileSync(path, 'utf8')).toBe(json5);
    expect(readJson(prepared.configPath)).toEqual({ $include: path, gateway: { trustedProxies: REQUIRED.trustedProxies, controlUi: { allowedOrigins: REQUIRED.allowedOrigins } } });
  });

  it('uses the overlay for a JSON config it cannot write', async () => {
    const dir = stateDir();
    const userDir = stateDir();
    const path = join(userDir, 'openclaw.json');
    writeFileSync(path, '{"gateway":{}}');
    // Immutable: not even root may replace it (the tests run as root, for whom modes do not count).
    execFileSync('chattr', ['+i', path]);
    try {
      const prepared = await prepareGatewayConfig(dir, path, REQUIRED);
      expect(prepared).toMatchObject({ mode: 'overlay', includeRoots: [userDir] });
      expect(readFileSync(path, 'utf8')).toBe('{"gateway":{}}');
      expect(existsSync(`${path}.supervisor-tmp`)).toBe(false);
    } finally {
      execFileSync('chattr', ['-i', path]);
    }
  });
});
