import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { connectAndCheck } from '../helpers/gateway-client.mjs';
import type { Netns } from '../helpers/netns.js';
import { startRemoteDevices, type RemoteDevices } from '../helpers/remote-devices.js';
import { CLI, ROOT, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';

const CLI_TIMEOUT_MS = 90_000;
const CONFIG_TOKEN = 'config-token-set-by-the-user-7781';
const UI_ORIGIN = 'https://openclaw.example.test';

/**
 * Issue 12 with the real gateway: a remote client (its own network namespace) with a device
 * identity is refused for pairing, the supervisor says how to approve it, the documented command
 * approves it and the same client connects; then a token set in the gateway config after the start
 * is named truthfully, and the way back works. One gateway start for all of it.
 */
describe('pairing a remote device and the token in effect, with the real gateway', () => {
  let ns: Netns;
  let sup: RunningSupervisor;
  let cliEnv: Record<string, string | undefined>;
  let device: RemoteDevices['device'];
  const gatewayLines = (text: string): LogRecord[] => sup.records.filter((r) => r.event === 'gateway.log' && String(r['line'] ?? r.msg).includes(text));

  beforeAll(async () => {
    ({ ns, sup, cliEnv, device } = await startRemoteDevices('ocs-pairing-', { SUPERVISOR_ALLOWED_ORIGINS: UI_ORIGIN }));
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
    ns?.destroy();
  });

  it('gateway.ready repeats the URLs a person can open (localhost first, no bridge such as the test\'s veth) and where the token is', () => {
    const ready = sup.events('gateway.ready')[0]!;
    const urls = ready['urls'] as string[];
    expect(urls[0]).toBe(`http://localhost:${sup.port}/`);
    expect(urls.length).toBeLessThanOrEqual(2);
    expect(urls).not.toContain(`http://${ns.hostAddress}:${sup.port}/`);
    expect(ready['tokenInEffect']).toBe('the token in OPENCLAW_GATEWAY_TOKEN');
    expect(ready.msg).toContain(`http://localhost:${sup.port}/`);
  });

  it('refused → gateway.pairing_required once per request → the logged command approves it → the same client connects', async () => {
    const refused = device('device.json');
    expect(refused['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    expect(refused['close']).toMatchObject({ code: 1008 });
    const requestId = refused['hello'].error.details.requestId as string;
    expect(requestId).toMatch(/^[\w-]{8,}$/);

    const notice = await sup.waitFor('gateway.pairing_required', (r) => r['requestId'] === requestId, 15_000);
    expect(notice).toMatchObject({ level: 'warn', clientAddress: ns.nsAddress, approveCommand: `node ${CLI} devices approve ${requestId}` });
    expect(notice.msg).toContain(ns.nsAddress);

    // The UI retries with the same request: no second record for it.
    device('device.json');
    await sup.waitFor('gateway.log', () => gatewayLines(`requestId=${requestId}`).length >= 2, 15_000);
    expect(sup.events('gateway.pairing_required').filter((r) => r['requestId'] === requestId)).toHaveLength(1);

    const listed = await runCli(['devices'], cliEnv, CLI_TIMEOUT_MS);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(requestId);
    expect(listed.stdout).toContain(`from ${ns.nsAddress}, platform linux`);

    // Exactly the logged command (node <cli> devices approve <id>), with the container's environment.
    const [node, script, ...args] = (notice['approveCommand'] as string).split(' ');
    expect([node, script]).toEqual(['node', CLI]);
    const approved = await runCli(args, cliEnv, CLI_TIMEOUT_MS);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approving ${requestId}: from ${ns.nsAddress}, platform linux`);
    expect(approved.stdout).toContain('Approved.');
    for (const output of [listed.stdout, listed.stderr, approved.stdout, approved.stderr]) expect(output).not.toContain(sup.token);

    const connected = device('device.json');
    expect(connected['hello']).toMatchObject({ ok: true, type: 'hello-ok' });
  });

  it('a remote Control UI (its client id, mode and Origin) is refused, shown by devices approve --latest (the only request), approved with --yes, then connects', async () => {
    const ui = (): Record<string, any> => device('browser.json', ['--control-ui', `origin:${UI_ORIGIN}`]);
    const refused = ui();
    expect(refused['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    const requestId = refused['hello'].error.details.requestId as string;
    const notice = await sup.waitFor('gateway.pairing_required', (r) => r['requestId'] === requestId, 15_000);
    // From the gateway's pending list (which holds no Origin; the gateway checked it against the allowed origins).
    expect(notice).toMatchObject({ clientAddress: ns.nsAddress, platform: 'Linux x86_64', clientId: 'openclaw-control-ui', clientMode: 'webchat' });

    // Without a terminal, --latest shows the only pending request and approves nothing.
    const shown = await runCli(['devices', 'approve', '--latest'], cliEnv, CLI_TIMEOUT_MS);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(`The only pending request: ${requestId}: from ${ns.nsAddress}, platform Linux x86_64, client openclaw-control-ui (webchat)`);
    expect(ui()['hello']).toMatchObject({ ok: false });

    const approved = await runCli(['devices', 'approve', '--latest', '--yes'], cliEnv, CLI_TIMEOUT_MS);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approving ${requestId}`);
    expect(ui()['hello']).toMatchObject({ ok: true, type: 'hello-ok' });
  });

  it('openclaw-supervisor openclaw passes the exit code through and aims at this gateway', async () => {
    const version = await runCli(['openclaw', '--version'], cliEnv, CLI_TIMEOUT_MS);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/OpenClaw 2026\.9\.6/);
    const unknown = await runCli(['openclaw', 'no-such-command'], cliEnv, CLI_TIMEOUT_MS);
    expect(unknown.code).toBe(1);
    // The npm script is the same command (npm passes the exit code through).
    const viaNpm = spawnSync('npm', ['run', '--silent', 'openclaw', '--', 'devices', 'list', '--json'], { cwd: ROOT, env: cliEnv as NodeJS.ProcessEnv, encoding: 'utf8', timeout: CLI_TIMEOUT_MS });
    expect(viaNpm.status, viaNpm.stderr).toBe(0);
    expect((JSON.parse(viaNpm.stdout) as { paired: unknown[] }).paired.length).toBeGreaterThanOrEqual(1);
    const dashboard = await runCli(['openclaw', 'dashboard'], cliEnv, CLI_TIMEOUT_MS);
    expect(dashboard.code).toBe(0);
    expect(dashboard.stdout).toContain(`http://localhost:${sup.port}/`);
    expect(dashboard.stdout).not.toContain('#token=');
    expect(dashboard.stdout).not.toContain(sup.token);
  });

  it('a token set in the gateway config after the start is named truthfully, and the way back works', async () => {
    const set = await runCli(['openclaw', 'config', 'set', 'gateway.auth.token', CONFIG_TOKEN], cliEnv, CLI_TIMEOUT_MS);
    expect(set.code, set.stderr).toBe(0);
    const overridden = await sup.waitFor('gateway.token_overridden', undefined, 30_000);
    expect(overridden).toMatchObject({ level: 'warn', trigger: 'reload', enforced: `gateway.auth.token in ${join(sup.stateDir, 'openclaw.json')} (or a file it $includes)` });
    // What the message says is what connects.
    expect((await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, CONFIG_TOKEN, { health: false })).hello).toMatchObject({ ok: true });
    expect((await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, sup.token, { health: false })).hello?.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    const dashboard = await runCli(['openclaw', 'dashboard'], cliEnv, CLI_TIMEOUT_MS);
    expect(dashboard.stdout).toContain(`Token: gateway.auth.token in ${join(sup.stateDir, 'openclaw.json')}`);
    expect(dashboard.stdout).not.toContain(CONFIG_TOKEN);

    const [, , ...back] = (overridden['backCommand'] as string).replace(/ \(.*\)$/, '').split(' ');
    expect(back).toEqual(['openclaw', 'config', 'unset', 'gateway.auth.token']);
    const unset = await runCli(back, cliEnv, CLI_TIMEOUT_MS);
    expect(unset.code, unset.stderr).toBe(0);
    await sup.waitFor('gateway.token_restored', undefined, 30_000);
    expect((await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, sup.token, { health: false })).hello).toMatchObject({ ok: true });
    expect(sup.output.join('\n')).not.toContain(CONFIG_TOKEN);
  });
});
