import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthWatch, authConfigFacts, configCredentialNote, describeEnforcedCredential, isAuthReloadLine, type ProbeResult } from '../../../src/gateway/auth-check.js';

describe('authConfigFacts', () => {
  it.each([
    [{}, { mode: null, token: { kind: 'none' }, password: false }],
    [{ gateway: { auth: { token: 'abc' } } }, { mode: null, token: { kind: 'literal' }, password: false }],
    [{ gateway: { auth: { token: '${MY_TOKEN}', mode: 'token' } } }, { mode: 'token', token: { kind: 'env', variable: 'MY_TOKEN' }, password: false }],
    [{ gateway: { auth: { token: { source: 'file', provider: 'default', id: '/run/secrets/t' } } } }, { mode: null, token: { kind: 'ref', source: 'file', id: '/run/secrets/t' }, password: false }],
    [{ gateway: { auth: { mode: 'password', password: 'pw' } } }, { mode: 'password', token: { kind: 'none' }, password: true }],
  ])('%j', (config, facts) => {
    expect(authConfigFacts(config)).toEqual(facts);
  });

  it('never puts the secret in the description', () => {
    const text = describeEnforcedCredential(authConfigFacts({ gateway: { auth: { token: 'very-secret-config-token' } } }), '/data/openclaw.json');
    expect(text).toBe('gateway.auth.token in /data/openclaw.json (or a file it $includes)');
  });
});

describe('isAuthReloadLine', () => {
  it('spots a live reload of gateway.auth (measured line) and nothing else', () => {
    expect(isAuthReloadLine('2026-12-03T09:43:07.719+00:00 [reload] config hot reload applied (gateway.auth.token)')).toBe(true);
    expect(isAuthReloadLine('2026-12-03T09:43:07.719+00:00 [reload] config hot reload applied (agents.defaults, gateway.auth.password)')).toBe(true);
    expect(isAuthReloadLine('2026-12-03T09:43:06.530+00:00 [reload] config change detected; evaluating reload (gateway.auth.token, meta)')).toBe(false);
    expect(isAuthReloadLine('2026-12-03T09:43:07.719+00:00 [reload] config hot reload applied (gateway.controlUi.allowedOrigins)')).toBe(false);
  });
});

function watch(config: object, probeResult: ProbeResult) {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-auth-'));
  const configPath = join(dir, 'openclaw.json');
  writeFileSync(configPath, JSON.stringify(config));
  const records: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const logger = {
    warn: (fields: Record<string, unknown>, msg: string) => records.push({ level: 'warn', fields, msg }),
    info: (fields: Record<string, unknown>, msg: string) => records.push({ level: 'info', fields, msg }),
  };
  const probes: string[] = [];
  const result = { value: probeResult };
  const auth = new AuthWatch({
    logger: logger as never,
    gatewayPort: 1,
    token: 'supervisor-token-1234',
    tokenWhere: 'in /data/gateway-token',
    configPath,
    userConfigPath: configPath,
    selfCommand: 'node /app/dist/cli.js',
    probe: async (_port, token) => {
      probes.push(token);
      return result.value;
    },
  });
  return { auth, records, probes, configPath, result };
}

describe('AuthWatch', () => {
  it('without credentials in the config, names the supervisor token and asks the gateway nothing', async () => {
    const { auth, records, probes } = watch({ gateway: { trustedProxies: ['127.0.0.1'] } }, 'rejected');
    expect(await auth.check('ready')).toMatchObject({ tokenInEffect: 'the token in /data/gateway-token', probed: false });
    expect(probes).toEqual([]);
    expect(records).toEqual([]);
  });

  it('with a config token the gateway enforces, says so loudly, with the way back, and never the secret', async () => {
    const { auth, records, probes, configPath } = watch({ gateway: { auth: { token: 'config-secret-5678' } } }, 'rejected');
    const checked = await auth.check('reload');
    expect(probes).toEqual(['supervisor-token-1234']);
    expect(checked.tokenInEffect).toBe(`gateway.auth.token in ${configPath} (or a file it $includes)`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'warn', fields: { event: 'gateway.token_overridden', trigger: 'reload', backCommand: 'node /app/dist/cli.js openclaw config unset gateway.auth.token (the gateway applies it live)' } });
    expect(records[0]!.msg).toContain('does NOT accept the supervisor');
    expect(JSON.stringify(records)).not.toContain('config-secret-5678');
    expect(auth.overridden).toBe(true);
  });

  it('a config token equal to the supervisor token (e.g. ${OPENCLAW_GATEWAY_TOKEN}) is checked and accepted quietly; recovery is logged', async () => {
    const { auth, records, result } = watch({ gateway: { auth: { token: '${OPENCLAW_GATEWAY_TOKEN}' } } }, 'rejected');
    await auth.check('ready');
    result.value = 'accepted';
    expect(await auth.check('reload')).toMatchObject({ tokenInEffect: 'the token in /data/gateway-token', probed: true });
    expect(records.map((record) => record.fields['event'])).toEqual(['gateway.token_overridden', 'gateway.token_restored']);
  });
});

describe('configCredentialNote (before the gateway runs)', () => {
  const note = async (config: object | string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-note-'));
    const path = join(dir, 'openclaw.json');
    writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
    return { text: await configCredentialNote(path, path), path };
  };

  it('is null when the supervisor token is what the gateway will use', async () => {
    expect((await note({ gateway: { trustedProxies: ['127.0.0.1'] } })).text).toBeNull();
    expect((await note({ gateway: { auth: { mode: 'token', token: '${OPENCLAW_GATEWAY_TOKEN}' } } })).text).toBeNull();
  });

  it('warns when the config sets a credential of its own, or cannot be read', async () => {
    const literal = await note({ gateway: { auth: { token: 'x-config-token-99' } } });
    expect(literal.text).toBe(`but gateway.auth.token in ${literal.path} (or a file it $includes) takes precedence if it differs; checked when the gateway is ready`);
    expect(literal.text).not.toContain('x-config-token-99');
    expect((await note('{ not json5')).text).toMatch(/^unless .* \(unreadable here: /);
  });
});
