import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns } from '../helpers/netns.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const HTTP_GET = join(ROOT, 'test', 'helpers', 'http-get.mjs');
const WS_CLIENT = join(ROOT, 'test', 'helpers', 'gateway-client.mjs');
const USER_CONFIG = '{\n  // the user\'s own settings, with a comment\n  agents: { defaults: { maxConcurrent: 2 } },\n}\n';

/**
 * A remote client for real: it sits in a network namespace of its own and reaches the supervisor
 * on our side of a veth pair, so its address is not loopback. The real gateway must see it as
 * remote (restricted answers), while a local caller still gets the full details.
 */
describe('client attribution with the real gateway', () => {
  let ns: Netns;
  let sup: RunningSupervisor;
  let userConfig: string;
  const inNs = (argv: string[]): Record<string, unknown> =>
    JSON.parse(execFileSync(ns.exec(argv)[0]!, ns.exec(argv).slice(1), { encoding: 'utf8', timeout: 30_000 })) as Record<string, unknown>;

  beforeAll(async () => {
    ns = createNetns();
    // The user's own config is JSON5 with a comment: the supervisor must not rewrite it, and adds
    // gateway.trustedProxies through an overlay that $includes it (OPENCLAW_INCLUDE_ROOTS).
    userConfig = join(mkdtempSync(join(tmpdir(), 'ocs-user-config-')), 'openclaw.json5');
    writeFileSync(userConfig, USER_CONFIG);
    sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000', OPENCLAW_CONFIG_PATH: userConfig } });
    await sup.waitFor('gateway.ready', undefined, 120_000);
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
    ns?.destroy();
  });

  it('kept the user JSON5 config untouched and added the proxy settings through an overlay', () => {
    expect(sup.events('gateway.config_prepared')[0]).toMatchObject({ mode: 'overlay', userConfigPath: userConfig });
    expect(readFileSync(userConfig, 'utf8')).toBe(USER_CONFIG);
  });

  it('gives a remote client the restricted /ready and a local one the full details', async () => {
    const remote = inNs([process.execPath, HTTP_GET, `http://${ns.hostAddress}:${sup.port}/ready`]);
    expect(remote['status']).toBe(200);
    expect(Object.keys(JSON.parse(remote['body'] as string) as object)).toEqual(['ready']);

    // Claiming to be loopback from outside changes nothing: the front door replaces the header.
    const spoofed = inNs([process.execPath, HTTP_GET, `http://${ns.hostAddress}:${sup.port}/ready`, 'x-forwarded-for:127.0.0.1', 'x-real-ip:127.0.0.1']);
    expect(Object.keys(JSON.parse(spoofed['body'] as string) as object)).toEqual(['ready']);

    const direct = (await (await fetch(`http://127.0.0.1:${sup.gatewayPort}/ready`)).json()) as Record<string, unknown>;
    expect(direct).toHaveProperty('failing');
    expect(direct).toHaveProperty('uptimeMs');
    const localThroughFrontDoor = (await (await fetch(sup.url('/ready'))).json()) as Record<string, unknown>;
    expect(localThroughFrontDoor).toHaveProperty('uptimeMs');
  });

  it('lets a remote client connect with the right token and refuses a wrong one with 1008', () => {
    const tokenFile = join(sup.stateDir, 'test-token');
    writeFileSync(tokenFile, sup.token, { mode: 0o600 });
    const ok = inNs([process.execPath, WS_CLIENT, `ws://${ns.hostAddress}:${sup.port}/`, tokenFile, '--health']);
    expect(ok['hello']).toMatchObject({ ok: true, type: 'hello-ok' });
    // A remote token client without a paired device gets no scopes, but health is open to it.
    expect(ok['health']).toMatchObject({ ok: true });

    const wrongFile = join(sup.stateDir, 'wrong-token');
    writeFileSync(wrongFile, 'not-the-token-42', { mode: 0o600 });
    const refused = inNs([process.execPath, WS_CLIENT, `ws://${ns.hostAddress}:${sup.port}/`, wrongFile]);
    expect(refused['hello']).toMatchObject({ ok: false });
    expect(refused['close']).toMatchObject({ code: 1008 });
  });
});
