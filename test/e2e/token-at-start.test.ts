import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAndCheck } from '../helpers/gateway-client.mjs';
import { CLI, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const CONFIG_TOKEN = 'token-written-by-doctor-4431';

/**
 * Issue 12 §1, the next start after `openclaw doctor --generate-gateway-token` (which writes
 * gateway.auth.token into openclaw.json): the supervisor must not name its own token as the one to
 * use. Real gateway; the config is JSON5 with the token in an $included file.
 */
describe('a config token at start, with the real gateway', () => {
  let sup: RunningSupervisor;
  let userConfig: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-token-config-'));
    writeFileSync(join(dir, 'auth.json5'), `{ token: '${CONFIG_TOKEN}' } // written by a tool\n`);
    userConfig = join(dir, 'openclaw.json5');
    writeFileSync(userConfig, "{\n  // mine\n  gateway: { auth: { $include: './auth.json5' } },\n}\n");
    sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000', OPENCLAW_CONFIG_PATH: userConfig } });
    await sup.waitFor('gateway.ready', undefined, 120_000);
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
  });

  it('says loudly which token is in effect, where it lives and how to get back, and that is what connects', async () => {
    const overridden = sup.events('gateway.token_overridden');
    expect(overridden).toHaveLength(1);
    expect(overridden[0]).toMatchObject({
      level: 'warn',
      trigger: 'ready',
      tokenSource: 'literal',
      enforced: `gateway.auth.token in ${userConfig} (or a file it $includes)`,
      backCommand: `node ${CLI} openclaw config unset gateway.auth.token (the gateway applies it live)`,
    });
    // Already at start, before the gateway runs, the supervisor does not claim its own token works.
    expect(sup.events('supervisor.starting')[0]!.msg).toContain(`token from OPENCLAW_GATEWAY_TOKEN (but gateway.auth.token in ${userConfig} (or a file it $includes) takes precedence if it differs`);
    const ready = sup.events('gateway.ready')[0]!;
    expect(ready['tokenInEffect']).toBe(`gateway.auth.token in ${userConfig} (or a file it $includes)`);
    expect(ready.msg).not.toContain('OPENCLAW_GATEWAY_TOKEN');

    expect((await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, CONFIG_TOKEN, { health: false })).hello).toMatchObject({ ok: true });
    expect((await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, sup.token, { health: false })).hello?.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    expect(sup.output.join('\n')).not.toContain(CONFIG_TOKEN);
  });
});
