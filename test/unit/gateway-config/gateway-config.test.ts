import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_PROXIES, prepareGatewayConfig, withRequiredKeys } from '../../../src/gateway-config/gateway-config.js';
import { asyncUsageErrorOf, expectMentions } from '../usage-error-assert.js';

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

  describe('writes only whole files, never through a planted link', () => {
    const USER = { gateway: { trustedProxies: ['192.0.2.1'] } };

    it.each([
      ['the old fixed temporary name', (target: string) => `${target}.supervisor-tmp`],
      ['the backup name', (target: string) => `${target}.supervisor-backup`],
    ])('a symbolic link at %s gets nothing written into its target', async (_name, plantedAt) => {
      const dir = stateDir();
      const path = join(dir, 'openclaw.json');
      writeFileSync(path, JSON.stringify(USER));
      const victim = join(stateDir(), 'victim');
      writeFileSync(victim, 'victim content');
      const planted = plantedAt(path);
      symlinkSync(victim, planted);

      expect(await prepareGatewayConfig(dir, null, REQUIRED)).toMatchObject({ mode: 'updated' });

      expect(readFileSync(victim, 'utf8')).toBe('victim content');
      expect(lstatSync(path).isSymbolicLink()).toBe(false);
      expect(readJson(path)['gateway']['trustedProxies']).toEqual(['192.0.2.1', ...REQUIRED.trustedProxies]);
      expect(readJson(`${path}.supervisor-backup`)).toEqual(USER);
      expect(readdirSync(dir).filter((name) => name.includes('supervisor-tmp') && join(dir, name) !== planted)).toEqual([]);
    });
  });

  describe('an empty config', () => {
    it.each([
      ['empty', ''],
      ['whitespace only', ' \n\n'],
    ])('<state dir>/openclaw.json %s (an older version cut short by a full disk) is created anew, and said so', async (_name, content) => {
      const dir = stateDir();
      const path = join(dir, 'openclaw.json');
      writeFileSync(path, content);
      const prepared = await prepareGatewayConfig(dir, null, REQUIRED);
      expect(prepared).toEqual({ configPath: path, includeRoots: [], mode: 'created', userConfigPath: path, replacedEmptyFile: true });
      expect(readJson(path)['gateway']).toEqual({ trustedProxies: REQUIRED.trustedProxies, controlUi: { allowedOrigins: REQUIRED.allowedOrigins } });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(['openclaw.json']);
      expect(await prepareGatewayConfig(dir, null, REQUIRED)).toEqual({ configPath: path, includeRoots: [], mode: 'unchanged', userConfigPath: path });
    });

    it.each([
      ['OPENCLAW_CONFIG_PATH', true],
      ['a symbolic link at <state dir>/openclaw.json', false],
    ])('%s to an empty file is the user\'s: refused with what to do, never filled in', async (_name, viaConfigPath) => {
      const dir = stateDir();
      const userDir = stateDir();
      const target = join(userDir, 'mine.json');
      writeFileSync(target, '');
      const path = viaConfigPath ? target : join(dir, 'openclaw.json');
      if (!viaConfigPath) symlinkSync(target, path);
      const message = await asyncUsageErrorOf(() => prepareGatewayConfig(dir, viaConfigPath ? path : null, REQUIRED));
      expectMentions(message, [path, 'is empty', '{}']);
      expect(readFileSync(target, 'utf8')).toBe('');
      expect(readdirSync(userDir)).toEqual(['mine.json']);
      expect(existsSync(join(dir, 'supervisor'))).toBe(false);
    });
  });

  describe('a symlinked config', () => {
    const USER = { gateway: { trustedProxies: ['192.0.2.1'], mode: 'local' }, agents: { defaults: { maxConcurrent: 2 } } };

    it.each([
      ['<state dir>/openclaw.json', false],
      ['OPENCLAW_CONFIG_PATH', true],
    ])('%s is updated through the link: the link stays a link, the target gets the entries and a backup', async (_name, viaConfigPath) => {
      const dir = stateDir();
      const realDir = stateDir();
      const target = join(realDir, 'real.json');
      const original = JSON.stringify(USER);
      writeFileSync(target, original);
      const link = join(viaConfigPath ? stateDir() : dir, 'openclaw.json');
      symlinkSync(target, link);

      const prepared = await prepareGatewayConfig(dir, viaConfigPath ? link : null, REQUIRED);

      expect(prepared).toEqual({ configPath: link, includeRoots: [], mode: 'updated', userConfigPath: link });
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(target);
      const written = readJson(target);
      expect(written['gateway']).toEqual({ trustedProxies: ['192.0.2.1', ...REQUIRED.trustedProxies], mode: 'local', controlUi: { allowedOrigins: REQUIRED.allowedOrigins } });
      expect(written['agents']).toEqual(USER.agents);
      expect(readFileSync(`${target}.supervisor-backup`, 'utf8')).toBe(original);
      expect(existsSync(`${target}.supervisor-tmp`)).toBe(false);
      // Nothing written next to the link: the link's folder holds the link only.
      expect(existsSync(`${link}.supervisor-backup`)).toBe(false);
      expect(await prepareGatewayConfig(dir, viaConfigPath ? link : null, REQUIRED)).toMatchObject({ mode: 'unchanged' });
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
    });

    it('a relative link through a chain of links is followed to the real file', async () => {
      const dir = stateDir();
      const target = join(dir, 'real.json');
      writeFileSync(target, JSON.stringify(USER));
      symlinkSync('real.json', join(dir, 'middle.json'));
      symlinkSync('middle.json', join(dir, 'openclaw.json'));
      await prepareGatewayConfig(dir, null, REQUIRED);
      expect(readlinkSync(join(dir, 'openclaw.json'))).toBe('middle.json');
      expect(readlinkSync(join(dir, 'middle.json'))).toBe('real.json');
      expect(readJson(target)['gateway']['trustedProxies']).toEqual(['192.0.2.1', ...REQUIRED.trustedProxies]);
    });

    it('a symlinked JSON5 config gets the overlay, with the real file\'s folder as an include root', async () => {
      const dir = stateDir();
      const realDir = stateDir();
      const target = join(realDir, 'openclaw.json5');
      const json5 = '{\n  // mine\n  gateway: { mode: "local" },\n}\n';
      writeFileSync(target, json5);
      const link = join(dir, 'openclaw.json');
      symlinkSync(target, link);
      const prepared = await prepareGatewayConfig(dir, null, REQUIRED);
      expect(prepared).toMatchObject({ mode: 'overlay', includeRoots: [dir, realDir] });
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe(json5);
      expect(readJson(prepared.configPath)['$include']).toBe(link);
    });

    it.each([
      ['<state dir>/openclaw.json', false, 'OPENCLAW_STATE_DIR'],
      ['OPENCLAW_CONFIG_PATH', true, 'OPENCLAW_CONFIG_PATH'],
    ])('a dangling %s is a usage error naming the link and its missing target; nothing is written', async (_name, viaConfigPath, setting) => {
      const dir = stateDir();
      const missing = join(stateDir(), 'gone', 'openclaw.json');
      const link = join(viaConfigPath ? stateDir() : dir, 'openclaw.json');
      symlinkSync(missing, link);
      const message = await asyncUsageErrorOf(() => prepareGatewayConfig(dir, viaConfigPath ? link : null, REQUIRED));
      expectMentions(message, [setting, link, 'symbolic link', missing, 'does not exist', 'create', 'remove the link']);
      expect(message).not.toMatch(/writable/);
      expect(message).not.toContain('\n');
      expect(readlinkSync(link)).toBe(missing);
      expect(existsSync(missing)).toBe(false);
    });

    it('names the missing end of a dangling chain of links', async () => {
      const dir = stateDir();
      symlinkSync('nowhere.json', join(dir, 'middle.json'));
      symlinkSync('middle.json', join(dir, 'openclaw.json'));
      const message = await asyncUsageErrorOf(() => prepareGatewayConfig(dir, null, REQUIRED));
      expectMentions(message, [join(dir, 'openclaw.json'), `${join(dir, 'nowhere.json')}, which does not exist`]);
    });

    it('a loop of links is a usage error', async () => {
      const dir = stateDir();
      symlinkSync('b.json', join(dir, 'openclaw.json'));
      symlinkSync('openclaw.json', join(dir, 'b.json'));
      const message = await asyncUsageErrorOf(() => prepareGatewayConfig(dir, null, REQUIRED));
      expectMentions(message, [join(dir, 'openclaw.json'), 'loop']);
    });
  });
});
