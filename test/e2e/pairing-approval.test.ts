import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../helpers/cli.js';
import type { Netns } from '../helpers/netns.js';
import { startRemoteDevices, type RemoteDevices } from '../helpers/remote-devices.js';
import { CLI, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';

const CLI_TIMEOUT_MS = 90_000;
// What the stranger sends as client.platform (issue 18): go to column 0, erase the line, hide what follows.
const HOSTILE_PLATFORM = 'linux\r\u001b[2K\u001b[8mMacIntel';
const HOSTILE_SHOWN = 'linux\\r\\x1b[2K\\x1b[8mMacIntel';
const RAW_CONTROL = /[\r\u001b\u009b]/;
const FORGED_ID = '00000000-0000-4000-8000-00000000f0f0';

/**
 * Issue 18 with the real gateway, remote clients in a network namespace of the test's own (all
 * from one address, as behind a platform edge): the `--latest` race with control characters, a
 * Host header forging the notice, and a stranger's flood of requests. One gateway start.
 */
describe('approval that cannot be tricked, with the real gateway', () => {
  let ns: Netns;
  let sup: RunningSupervisor;
  let cliEnv: Record<string, string | undefined>;
  let device: RemoteDevices['device'];
  const refusedId = (result: Record<string, any>): string => {
    expect(result['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    return result['hello'].error.details.requestId as string;
  };
  const noticeFor = (requestId: string): Promise<LogRecord> => sup.waitFor('gateway.pairing_required', (r) => r['requestId'] === requestId, 30_000);

  beforeAll(async () => {
    ({ ns, sup, cliEnv, device } = await startRemoteDevices('ocs-approval-'));
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
    ns?.destroy();
  });

  it("--latest refuses when a stranger asked after the owner, lists both escaped; the owner's id approves the owner only", async () => {
    const ownerId = refusedId(device('owner.json'));
    await noticeFor(ownerId);
    // The stranger holds the token and asks later, from the same address, with a platform that rewrites the terminal line.
    const strangerId = refusedId(device('stranger.json', [`--platform-json=${JSON.stringify(HOSTILE_PLATFORM)}`]));
    const strangerNotice = await noticeFor(strangerId);
    // The owner's browser retries: still two requests, the owner's is not "latest".
    expect(refusedId(device('owner.json'))).toBe(ownerId);

    for (const args of [['devices', 'approve', '--latest'], ['devices', 'approve', '--latest', '--yes']]) {
      const refused = await runCli(args, cliEnv, CLI_TIMEOUT_MS);
      expect(refused.code, refused.stderr).toBe(EXIT.badInput);
      expect(refused.stderr).toContain('2 requests are pending, so --latest cannot tell which one is yours');
      expect(refused.stderr).toContain(`request ${ownerId}`);
      expect(refused.stderr).toContain(`request ${strangerId}`);
      expect(refused.stderr).toContain(`platform ${HOSTILE_SHOWN}`);
      expect(refused.stdout + refused.stderr).not.toMatch(RAW_CONTROL);
    }
    // A person answering y on stdin changes nothing either.
    const answered = spawnSync(process.execPath, [CLI, 'devices', 'approve', '--latest'], { env: cliEnv as NodeJS.ProcessEnv, input: 'y\n', encoding: 'utf8', timeout: CLI_TIMEOUT_MS });
    expect(answered.status, answered.stderr).toBe(EXIT.badInput);
    expect(answered.stdout + answered.stderr).not.toMatch(RAW_CONTROL);

    const listed = await runCli(['devices'], cliEnv, CLI_TIMEOUT_MS);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`request ${strangerId}\n      from ${ns.nsAddress}, platform ${HOSTILE_SHOWN}`);
    expect(listed.stdout).toContain(`request ${ownerId}\n      from ${ns.nsAddress}, platform linux,`);
    expect(listed.stdout).toMatch(/first seen \d+ s ago/);
    expect(listed.stdout).not.toMatch(RAW_CONTROL);

    const approved = await runCli(['devices', 'approve', ownerId], cliEnv, CLI_TIMEOUT_MS);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approving ${ownerId}: from ${ns.nsAddress}, platform linux,`);
    expect(device('owner.json')['hello']).toMatchObject({ ok: true, type: 'hello-ok' });
    expect(refusedId(device('stranger.json', [`--platform-json=${JSON.stringify(HOSTILE_PLATFORM)}`]))).toBe(strangerId);
    for (const output of [listed.stdout, listed.stderr, approved.stdout, approved.stderr]) expect(output).not.toContain(sup.token);

    // The record shows the stranger's platform escaped too (JSON alone leaves it raw for a pretty printer).
    expect(strangerNotice['platform']).toBe(HOSTILE_SHOWN);
    expect(String(strangerNotice.msg)).toContain(`platform ${HOSTILE_SHOWN}`);
  });

  it("a Host header imitating the gateway line's requestId= does not change the record's approveCommand", async () => {
    const forgedHost = `x (requestId: ${FORGED_ID}) requestId=${FORGED_ID} deviceId=${'f'.repeat(64)}`;
    const realId = refusedId(device('forger.json', [`Host:${forgedHost}`]));
    // The forged text did reach the gateway's refusal line (else this test would prove nothing).
    await sup.waitFor('gateway.log', (r) => String(r['line'] ?? r.msg).includes(`requestId: ${FORGED_ID}`) && String(r['line'] ?? r.msg).includes(realId), 30_000);
    const notice = await noticeFor(realId);
    expect(notice['approveCommand']).toBe(`node ${CLI} devices approve ${realId}`);
    expect(sup.events('gateway.pairing_required').filter((r) => JSON.stringify(r).includes(FORGED_ID))).toEqual([]);
  });

  it("six requests by a stranger do not stop the owner's request from getting its record", async () => {
    const strangerIds: string[] = [];
    for (let i = 0; i < 6; i++) strangerIds.push(refusedId(device(`flood-${i}.json`, [`--platform-json=${JSON.stringify(`${HOSTILE_PLATFORM}${i}`)}`])));
    const ownerId = refusedId(device('owner-2.json'));
    const notice = await noticeFor(ownerId);
    expect(notice).toMatchObject({ level: 'warn', clientAddress: ns.nsAddress, platform: 'linux', approveCommand: `node ${CLI} devices approve ${ownerId}` });
    for (const id of strangerIds) await noticeFor(id);
    expect(sup.events('gateway.pairing_required').filter((r) => r['requestId'] === ownerId)).toHaveLength(1);
  });
});
