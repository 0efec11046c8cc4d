import { describe, expect, it } from 'vitest';
import { buildChildEnv, type ChildEnvInput } from '../../../src/gateway/child-env.js';
import { buildGatewayCommand } from '../../../src/gateway/gateway-command.js';

const TOKEN = 'child-env-token-Zr83Qw';

function build(parentEnv: ChildEnvInput['parentEnv'], nodeBinDir: string | null = null, includeRoots: readonly string[] = []): Record<string, string> {
  return buildChildEnv({ parentEnv, token: TOKEN, stateDir: '/data/.openclaw', configPath: '/data/.openclaw/openclaw.json', includeRoots, nodeBinDir });
}

describe('buildChildEnv: what the gateway must not inherit', () => {
  it.each([
    'INVOCATION_ID',
    'JOURNAL_STREAM',
    'SYSTEMD_EXEC_PID',
    'OPENCLAW_SYSTEMD_UNIT',
    'OPENCLAW_GATEWAY_TOKEN_FILE',
    'SUPERVISOR_GATEWAY_PORT',
    'SUPERVISOR_LOG_LEVEL',
    'SUPERVISOR_TRUSTED_PROXIES',
    'SUPERVISOR_ANYTHING_NEW',
  ])('drops %s', (name) => {
    const env = build({ [name]: 'x', HOME: '/root' });
    expect(env).not.toHaveProperty(name);
    expect(env['HOME']).toBe('/root');
  });
});

describe("buildChildEnv: the supervisor's own allocator (pid1.ts) is not the gateway's", () => {
  it('drops what SUPERVISOR_PRELOADED names, and only that', () => {
    const env = build({ LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', MALLOC_CONF: 'background_thread:true', SUPERVISOR_PRELOADED: 'LD_PRELOAD,MALLOC_CONF', HOME: '/root' });
    expect(env).not.toHaveProperty('LD_PRELOAD');
    expect(env).not.toHaveProperty('MALLOC_CONF');
    expect(env).not.toHaveProperty('SUPERVISOR_PRELOADED');
    expect(env['HOME']).toBe('/root');
  });
  it("keeps the user's own LD_PRELOAD and MALLOC_CONF when the hand-over added none", () => {
    expect(build({ LD_PRELOAD: '/opt/mine.so', MALLOC_CONF: 'narenas:1' })).toMatchObject({ LD_PRELOAD: '/opt/mine.so', MALLOC_CONF: 'narenas:1' });
    expect(build({ LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', MALLOC_CONF: 'narenas:1', SUPERVISOR_PRELOADED: 'LD_PRELOAD' })).toMatchObject({ MALLOC_CONF: 'narenas:1' });
  });
});

describe('buildChildEnv: what the gateway inherits', () => {
  it.each([
    ['HOME', '/home/node'],
    ['LANG', 'C.UTF-8'],
    ['RAILWAY_DEPLOYMENT_ID', 'dep-1'],
    ['OPENCLAW_GATEWAY_PASSWORD', 'pw'],
    ['OPENAI_API_KEY', 'sk-x'],
    ['MY_SUPERVISOR_SETTING', 'kept: prefix only'],
    ['SUPERVISOR', 'kept: no underscore'],
    ['EMPTY', ''],
  ])('keeps %s', (name, value) => {
    expect(build({ [name]: value })[name]).toBe(value);
  });

  it('drops variables whose value is undefined', () => {
    expect(build({ GONE: undefined })).not.toHaveProperty('GONE');
  });
});

describe('buildChildEnv: what the supervisor sets', () => {
  it('adds the token, state dir, config path, external supervisor mode and NO_COLOR', () => {
    expect(build({})).toEqual({
      OPENCLAW_GATEWAY_TOKEN: TOKEN,
      OPENCLAW_STATE_DIR: '/data/.openclaw',
      OPENCLAW_CONFIG_PATH: '/data/.openclaw/openclaw.json',
      OPENCLAW_SUPERVISOR_MODE: 'external',
      NO_COLOR: '1',
    });
  });

  // Since f347605: OPENCLAW_NO_RESPAWN=1 would turn a restart request into an in-process restart the
  // supervisor cannot see, so it is not set; an inherited one passes through untouched.
  it('passes NODE_OPTIONS as inherited, or the one the heap sizing built (heap-size.ts)', () => {
    const base = { token: TOKEN, stateDir: '/s', configPath: '/s/c.json', includeRoots: [], nodeBinDir: null };
    expect(buildChildEnv({ ...base, parentEnv: { NODE_OPTIONS: '--enable-source-maps' } })['NODE_OPTIONS']).toBe('--enable-source-maps');
    expect(buildChildEnv({ ...base, parentEnv: { NODE_OPTIONS: '--enable-source-maps' }, nodeOptions: '--enable-source-maps --max-old-space-size=768' })['NODE_OPTIONS']).toBe('--enable-source-maps --max-old-space-size=768');
    expect(buildChildEnv({ ...base, parentEnv: {}, nodeOptions: null })).not.toHaveProperty('NODE_OPTIONS');
  });

  it('does not set OPENCLAW_NO_RESPAWN', () => {
    expect(build({})).not.toHaveProperty('OPENCLAW_NO_RESPAWN');
  });

  it.each<[string, Record<string, string>, string[], string | undefined]>([
    ['not set without include roots', {}, [], undefined],
    ['inherited value kept without include roots', { OPENCLAW_INCLUDE_ROOTS: '/etc/oc' }, [], '/etc/oc'],
    ['set from the include roots', {}, ['/data/.openclaw', '/home/node/.openclaw'], '/data/.openclaw:/home/node/.openclaw'],
    ['appended to an inherited value', { OPENCLAW_INCLUDE_ROOTS: '/etc/oc' }, ['/data/.openclaw'], '/etc/oc:/data/.openclaw'],
    ['an empty inherited value is not kept as an empty entry', { OPENCLAW_INCLUDE_ROOTS: '' }, ['/data/.openclaw'], '/data/.openclaw'],
  ])('OPENCLAW_INCLUDE_ROOTS: %s', (_name, parent, roots, expected) => {
    expect(build(parent, null, roots)['OPENCLAW_INCLUDE_ROOTS']).toBe(expected);
  });

  it.each([
    ['OPENCLAW_GATEWAY_TOKEN', TOKEN],
    ['OPENCLAW_STATE_DIR', '/data/.openclaw'],
    ['OPENCLAW_CONFIG_PATH', '/data/.openclaw/openclaw.json'],
    ['OPENCLAW_SUPERVISOR_MODE', 'external'],
    ['NO_COLOR', '1'],
  ])('%s wins over an inherited value', (name, value) => {
    expect(build({ [name]: 'inherited' })[name]).toBe(value);
  });
});

describe('buildChildEnv: PATH', () => {
  it.each<[string, string | undefined, string | null, string | undefined]>([
    ['prefixed with the node bin dir', '/usr/local/bin:/usr/bin', '/opt/node24/bin', '/opt/node24/bin:/usr/local/bin:/usr/bin'],
    ['only the node bin dir when PATH is unset', undefined, '/opt/node24/bin', '/opt/node24/bin'],
    ['only the node bin dir when PATH is empty', '', '/opt/node24/bin', '/opt/node24/bin'],
    ['unchanged without a node bin dir', '/usr/bin', null, '/usr/bin'],
    ['absent without a node bin dir or PATH', undefined, null, undefined],
  ])('%s', (_name, path, nodeBinDir, expected) => {
    expect(build(path === undefined ? {} : { PATH: path }, nodeBinDir)['PATH']).toBe(expected);
  });
});

describe('buildChildEnv: purity and secrecy', () => {
  it('does not modify the parent environment', () => {
    const parent = { PATH: '/usr/bin', SUPERVISOR_X: '1', INVOCATION_ID: 'abc' };
    build(parent, '/opt/node24/bin');
    expect(parent).toEqual({ PATH: '/usr/bin', SUPERVISOR_X: '1', INVOCATION_ID: 'abc' });
  });

  it('puts the token in the environment and nowhere in the argv', () => {
    const env = build({});
    const { file, args } = buildGatewayCommand(null, 'openclaw', 19000);
    expect(env['OPENCLAW_GATEWAY_TOKEN']).toBe(TOKEN);
    expect([file, ...args].some((arg) => arg.includes(TOKEN))).toBe(false);
  });
});
