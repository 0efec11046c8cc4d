import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, FAKE_GATEWAY, TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

// `nobody` (65534) stands in for the image's `node`: every Debian machine has it, so the test
// needs no account of its own. The suite runs as root (network and PID namespaces need it anyway).
const NOBODY = 65_534;
const uidOf = (pid: number): number => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** A state dir's parent that `nobody` can traverse (mkdtemp makes 0700 directories). */
function parentDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-runas-'));
  chmodSync(dir, 0o755);
  return dir;
}

let sup: RunningSupervisor | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('started as root with SUPERVISOR_RUN_AS', () => {
  it('gives the state dir to the user (never through a link), then runs the supervisor and the gateway as that user', async () => {
    const parent = parentDir();
    dirs.push(parent);
    const stateDir = join(parent, 'state');
    // What an earlier root run left: root-owned 0600 files, a root-owned directory, and a link
    // to a root-owned file outside the state dir, whose target must stay root's.
    mkdirSync(join(stateDir, 'agents', 'main'), { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir, 'openclaw.json'), '{}\n', { mode: 0o600 });
    writeFileSync(join(stateDir, 'agents', 'main', 'session.jsonl'), '', { mode: 0o600 });
    const outside = join(parent, 'outside-secret');
    writeFileSync(outside, 'root only\n', { mode: 0o600 });
    symlinkSync(outside, join(stateDir, 'planted-link'));

    sup = await startSupervisor({ env: { OPENCLAW_STATE_DIR: stateDir, SUPERVISOR_RUN_AS: 'nobody' } });
    const dropped = await sup.waitFor('supervisor.privileges_dropped');
    // The dir, openclaw.json, agents, agents/main, session.jsonl and the link itself.
    expect(dropped).toMatchObject({ user: 'nobody', uid: NOBODY, gid: NOBODY, stateDir, created: false, repaired: 6 });
    await sup.waitFor('gateway.ready');
    const spawned = sup.events('gateway.spawned')[0]!;
    expect(uidOf(sup.process.pid!)).toBe(NOBODY);
    expect(uidOf(spawned['gatewayPid'] as number)).toBe(NOBODY);
    for (const path of ['', 'openclaw.json', 'agents', 'agents/main', 'agents/main/session.jsonl']) {
      expect(lstatSync(join(stateDir, path)).uid, path).toBe(NOBODY);
    }
    expect(lstatSync(join(stateDir, 'planted-link')).uid).toBe(NOBODY);
    expect(statSync(outside).uid).toBe(0);
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
  });

  it('creates a missing state dir for the user, leaves its parents traversable, and reports nothing to repair the second time', async () => {
    const parent = parentDir();
    dirs.push(parent);
    const stateDir = join(parent, 'volume', '.openclaw');
    sup = await startSupervisor({ env: { OPENCLAW_STATE_DIR: stateDir, SUPERVISOR_RUN_AS: 'nobody', OPENCLAW_GATEWAY_TOKEN: undefined } });
    expect(await sup.waitFor('supervisor.privileges_dropped')).toMatchObject({ created: true, repaired: 1 });
    await sup.waitFor('gateway.ready');
    expect(statSync(join(parent, 'volume')).mode & 0o777).toBe(0o755);
    expect(statSync(stateDir)).toMatchObject({ uid: NOBODY });
    const token = readFileSync(join(stateDir, 'gateway-token'), 'utf8');
    sup.signal('SIGTERM');
    await sup.exited;

    sup = await startSupervisor({ env: { OPENCLAW_STATE_DIR: stateDir, SUPERVISOR_RUN_AS: 'nobody', OPENCLAW_GATEWAY_TOKEN: undefined } });
    expect(await sup.waitFor('supervisor.privileges_dropped')).toMatchObject({ created: false, repaired: 0 });
    expect(await sup.waitFor('supervisor.starting')).toMatchObject({ tokenOrigin: 'stored' });
    expect(readFileSync(join(stateDir, 'gateway-token'), 'utf8')).toBe(token);
  });

  it('refuses an account that does not exist, in one line', () => {
    const result = spawnSync(process.execPath, [CLI, '--', process.execPath, FAKE_GATEWAY], {
      env: { PATH: process.env['PATH'], HOME: '/root', SUPERVISOR_RUN_AS: 'no-such-user-xyz', OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'openclaw-supervisor: SUPERVISOR_RUN_AS="no-such-user-xyz" names no account in /etc/passwd: name an existing unprivileged user (the image\'s is node, uid 1000), or unset it to stay root',
    ]);
  });
});

describe('started unprivileged on a state dir it cannot write', () => {
  const run = (stateDir: string, extra: Record<string, string>): { status: number | null; stderr: string } =>
    spawnSync(process.execPath, [CLI, '--', process.execPath, FAKE_GATEWAY], {
      env: { PATH: process.env['PATH'], HOME: '/nonexistent', OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN, ...extra },
      uid: NOBODY,
      gid: NOBODY,
      encoding: 'utf8',
      timeout: 20_000,
    });

  it.each([
    ['on Railway, names RAILWAY_RUN_UID=0', { RAILWAY_DEPLOYMENT_ID: 'dep-1', RAILWAY_VOLUME_MOUNT_PATH: '/data' }, 'set the service variable RAILWAY_RUN_UID=0'],
    ['on Kubernetes, names fsGroup', { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, "set the pod's securityContext.fsGroup to 65534"],
    ['in a container, names --user', { container: 'podman' }, 'start the container without --user'],
  ])('%s: exit 2, one line, nothing written', (_name, env, fix) => {
    const parent = parentDir();
    dirs.push(parent);
    const stateDir = join(parent, 'volume');
    mkdirSync(stateDir, { mode: 0o755 });
    chownSync(stateDir, 0, 0);
    const result = run(stateDir, env);
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`the state dir ${stateDir} is not writable for uid 65534 (EACCES): `);
    expect(lines[0]).toContain(fix);
    expect(lines[0]).not.toMatch(/OPENCLAW_CONFIG_PATH|\n\s+at /);
  });
});

describe('state that will not survive a deploy', () => {
  it.each([
    ['Railway, state dir moved off the volume', { RAILWAY_DEPLOYMENT_ID: 'dep-1', RAILWAY_VOLUME_MOUNT_PATH: '/data' }, "it is not on the service's volume (RAILWAY_VOLUME_MOUNT_PATH=/data)"],
    ['Railway, no volume', { RAILWAY_DEPLOYMENT_ID: 'dep-1' }, 'no volume is attached to this Railway service'],
  ])('%s: one supervisor.state_not_persistent warning, and it still starts', async (_name, env, reason) => {
    sup = await startSupervisor({ env });
    const warning = await sup.waitFor('supervisor.state_not_persistent');
    expect(warning).toMatchObject({ level: 'warn', platform: 'railway', reason, stateDir: sup.stateDir });
    expect(warning.msg).toContain('will be lost at the next deploy');
    await sup.waitFor('gateway.ready');
    expect(sup.events('supervisor.state_not_persistent')).toHaveLength(1);
  });

  it('says nothing when the state dir is on the Railway volume', async () => {
    const parent = parentDir();
    dirs.push(parent);
    sup = await startSupervisor({ env: { RAILWAY_DEPLOYMENT_ID: 'dep-1', RAILWAY_VOLUME_MOUNT_PATH: parent, OPENCLAW_STATE_DIR: join(parent, '.openclaw') } });
    await sup.waitFor('gateway.ready');
    expect(sup.events('supervisor.state_not_persistent')).toEqual([]);
  });
});
