import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { ROOT, startSupervisor, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Gateway releases the external-supervisor way, with real releases from the npm registry
 * (2026.9.4 and 2026.8.2, installed once into .runtime/releases by the pretest, copied into each
 * state volume's store as `npm install` would have left them; 2026.9.6 is the image's own) and a
 * local release that crashes at start. One state volume walks 9.4 → 9.6 → (8.2 refused) with a
 * remote device paired throughout; a second one is updated live, then to the crashing release.
 */
const CACHE = join(ROOT, '.runtime', 'releases');
const CRASHING = join(ROOT, 'test', 'fixtures', 'crashing-release');
const DEVICE_CLIENT = join(ROOT, 'test', 'helpers', 'device-client.mjs');
const READY_MS = 180_000;

/** Puts `versions` into the state volume's store as `npm install` would have left them (a copy: 0.5-0.9 GB each). */
function seedStore(stateDir: string, versions: ReadonlyArray<'2026.9.4' | '2026.8.2' | '2026.99.0'>): void {
  const releases = join(stateDir, 'tools', 'openclaw-supervisor', 'releases');
  mkdirSync(releases, { recursive: true, mode: 0o700 });
  for (const version of versions) {
    if (version === '2026.99.0') {
      mkdirSync(join(releases, version, 'node_modules'), { recursive: true });
      cpSync(CRASHING, join(releases, version, 'node_modules', 'openclaw'), { recursive: true });
    } else {
      cpSync(join(CACHE, version), join(releases, version), { recursive: true, verbatimSymlinks: true });
    }
  }
}

describe('gateway releases: pin, step, refuse, live update, roll back (real releases)', () => {
  let ns: Netns;
  let hook: WebhookReceiver;
  let work: string;
  let sup: RunningSupervisor | null = null;
  /** Every supervisor started, so that a failed test leaves none behind. */
  const started: RunningSupervisor[] = [];
  const token = 'tok-releases-4242-abcdef';

  const start = async (stateDir: string, pin: string): Promise<RunningSupervisor> => {
    // One supervisor per state dir at a time, also after a failed test that did not stop its own.
    await sup?.kill();
    sup = await startSupervisor({ gateway: null, env: { OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_TOKEN: token, SUPERVISOR_OPENCLAW_VERSION: pin, SUPERVISOR_ALERT_WEBHOOK: hook.url, SUPERVISOR_STARTUP_TIMEOUT_MS: '150000' } });
    started.push(sup);
    await sup.waitFor('gateway.ready', undefined, READY_MS);
    return sup;
  };
  const stop = async (): Promise<void> => {
    if (sup === null) return;
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    sup = null;
  };
  const cliEnv = (s: RunningSupervisor): Record<string, string | undefined> => ({ PATH: process.env['PATH'], HOME: process.env['HOME'], PORT: String(s.port), SUPERVISOR_GATEWAY_PORT: String(s.gatewayPort), OPENCLAW_STATE_DIR: s.stateDir, OPENCLAW_GATEWAY_TOKEN: token });
  /** A remote device (its own network namespace) connecting with its identity file; the gateway's hello. */
  const device = (s: RunningSupervisor, identity: string): { ok: boolean; error: any; server: any } => {
    const [file, ...args] = ns.exec([process.execPath, DEVICE_CLIENT, `ws://${ns.hostAddress}:${s.port}/`, join(work, 'token'), join(work, identity)]);
    return (JSON.parse(execFileSync(file!, args, { encoding: 'utf8', timeout: 30_000 })) as { hello: { ok: boolean; error: any; server: any } }).hello;
  };
  const release = (s: RunningSupervisor): LogRecord => s.events('gateway.release').at(-1)!;
  const timeOfEvent = (s: RunningSupervisor, event: string): number => Date.parse(String(s.events(event)[0]!['time']));

  beforeAll(async () => {
    ns = createNetns();
    hook = await webhookReceiver();
    work = mkdtempSync(join(tmpdir(), 'ocs-releases-'));
    writeFileSync(join(work, 'token'), token, { mode: 0o600 });
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.kill()));
    hook?.close();
    ns?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('one state volume, release by release', () => {
    let stateDir: string;
    beforeAll(() => {
      stateDir = join(work, 'volume-a');
      seedStore(stateDir, ['2026.9.4']);
    });

    it('pinned 2026.9.4 on a fresh volume: 2026.9.4 runs (hello), and a remote device is paired with it', async () => {
      const s = await start(stateDir, '2026.9.4');
      expect(release(s)).toMatchObject({ version: '2026.9.4', source: 'store', pinned: '2026.9.4' });
      const asked = device(s, 'phone.json');
      expect(asked).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
      const approved = await runCli(['devices', 'approve', asked.error.details.requestId], cliEnv(s), 60_000);
      expect(approved.code, approved.stderr).toBe(0);
      const hello = device(s, 'phone.json');
      expect(hello).toMatchObject({ ok: true });
      expect(hello.server).toMatchObject({ version: '2026.9.4' });
      await stop();
    }, 400_000);

    it('pinned 2026.9.6 on that state: a verified backup by 2026.9.4, its preflight, then 2026.9.6 runs with the device still paired', async () => {
      const s = await start(stateDir, '2026.9.6');
      const backup = s.events('gateway.backup_created')[0]!;
      expect(backup).toMatchObject({ from: '2026.9.4', to: '2026.9.6' });
      expect(existsSync(String(backup['path']))).toBe(true);
      expect(s.events('gateway.release_preflight')[0]).toMatchObject({ to: '2026.9.6', status: 'migration-required' });
      expect(s.events('gateway.update_accepted')[0]).toMatchObject({ from: '2026.9.4', to: '2026.9.6' });
      expect(device(s, 'phone.json')).toMatchObject({ ok: true, server: { version: '2026.9.6' } });
      expect(JSON.parse(readFileSync(join(stateDir, 'tools', 'openclaw-supervisor', 'releases.json'), 'utf8'))).toEqual({ lastGood: '2026.9.6', pending: null });
      // Accepted: the running release is the last good one (the image's), so the store keeps none.
      expect(readdirSync(join(stateDir, 'tools', 'openclaw-supervisor', 'releases'))).toEqual([]);
      await stop();
    }, 400_000);

    it('pinned 2026.8.2 on that state: refused by its own preflight, 2026.9.6 stays, one warning record and one alert, the device still paired', async () => {
      const alertsBefore = hook.bodies.length;
      // 2026.8.2 in the store as the registry's install would leave it (the cache saves ~25 s and the network).
      seedStore(stateDir, ['2026.8.2']);
      const s = await start(stateDir, '2026.8.2');
      const rolledBack = s.events('gateway.update_rolled_back');
      expect(rolledBack).toHaveLength(1);
      expect(rolledBack[0]).toMatchObject({ level: 'error', from: '2026.9.6', to: '2026.8.2', stage: 'preflight', restoredBackup: null });
      expect(String(rolledBack[0]!['reason'])).toMatch(/incompatible \(schema 18 found, it supports 15\)/);
      expect(s.events('gateway.spawned').map((r) => (r['command'] as string[])[0])).not.toContainEqual(expect.stringContaining('2026.8.2'));
      expect(release(s)).toMatchObject({ version: '2026.9.6' });
      expect(device(s, 'phone.json')).toMatchObject({ ok: true, server: { version: '2026.9.6' } });
      await expect.poll(() => hook.bodies.slice(alertsBefore).map((b) => b['kind']), { timeout: 10_000 }).toContain('update_rolled_back');
      // Refused, and not kept: the store holds the running and the last good release only, both the image's.
      expect(readdirSync(join(stateDir, 'tools', 'openclaw-supervisor', 'releases'))).toEqual([]);
      await stop();
    }, 400_000);
  });

  describe('a second volume, updated live', () => {
    let s: RunningSupervisor;
    beforeAll(async () => {
      const stateDir = join(work, 'volume-b');
      seedStore(stateDir, ['2026.9.4']);
      s = await start(stateDir, '2026.9.4');
    }, 400_000);

    it('update --to 2026.9.6 --yes from 2026.9.4: the same supervisor process runs 2026.9.6 after one gateway start', async () => {
      const pid = s.process.pid;
      const result = await runCli(['update', '--to', '2026.9.6', '--yes'], cliEnv(s), 240_000);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/backup: .*openclaw-2026\.9\.4-before-2026\.9\.6\.tar\.gz/);
      expect(result.stdout).toMatch(/openclaw 2026\.9\.6 is running \(was 2026\.9\.4\); the gateway was away for \d+ ms/);
      // The answer can come before the record is read from the supervisor's stdout.
      const accepted = await s.waitFor('gateway.update_accepted');
      expect(accepted).toMatchObject({ from: '2026.9.4', to: '2026.9.6' });
      expect(accepted['outageMs']).toBeGreaterThan(0);
      expect(s.process.exitCode).toBeNull();
      expect(s.events('supervisor.starting').map((r) => r['pid'])).toEqual([pid]);
      expect(s.events('gateway.spawned').at(-1)!['command']).toEqual(expect.arrayContaining([expect.stringMatching(/\.runtime\/openclaw\/node_modules\/openclaw\/openclaw\.mjs$/)]));
    }, 400_000);

    it('update to a release that crashes at start after changing the state: the state is restored, 2026.9.6 runs again, alert sent', async () => {
      const alertsBefore = hook.bodies.length;
      // The crashing release in the store as an install would leave it.
      seedStore(s.stateDir, ['2026.99.0']);
      const result = await runCli(['update', '--to', '2026.99.0', '--yes'], cliEnv(s), 240_000);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/openclaw 2026\.99\.0 was not started for good \(startup: .*migration to schema 19 failed/);
      const rolledBack = await s.waitFor('gateway.update_rolled_back');
      expect(rolledBack).toMatchObject({ from: '2026.9.6', to: '2026.99.0', stage: 'startup' });
      expect(String(rolledBack['restoredBackup'])).toMatch(/openclaw-2026\.9\.6-before-2026\.99\.0\.tar\.gz$/);
      expect(existsSync(join(s.stateDir, 'state', 'half-migrated'))).toBe(false);
      await s.waitFor('gateway.ready', (r) => (r['time'] as string) > (rolledBack['time'] as string), READY_MS);
      expect(s.events('gateway.spawned').at(-1)!['command']).toEqual(expect.arrayContaining([expect.stringMatching(/\.runtime\/openclaw\/node_modules\/openclaw\/openclaw\.mjs$/)]));
      await expect.poll(() => hook.bodies.slice(alertsBefore).map((b) => b['kind']), { timeout: 10_000 }).toContain('update_rolled_back');
      // The rollback is no failure of the last good release: no crash-loop count, no restart alert.
      expect(s.events('gateway.restart_scheduled').at(-1)).toMatchObject({ reason: 'rolled-back', delayMs: 0 });
      await stop();
    }, 400_000);

    it('a supervisor killed while a release is on trial: the next start puts the state back before anything runs on it', async () => {
      const stateDir = s.stateDir;
      seedStore(stateDir, ['2026.99.0']);
      const killed = await startSupervisor({ gateway: null, env: { OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_TOKEN: token, SUPERVISOR_OPENCLAW_VERSION: '2026.99.0', CRASHING_RELEASE_HANG: '1', SUPERVISOR_STARTUP_TIMEOUT_MS: '150000' } });
      started.push(killed);
      await killed.waitFor('gateway.spawned', (r) => String((r['command'] as string[])[0]).includes('2026.99.0'), READY_MS);
      await expect.poll(() => existsSync(join(stateDir, 'state', 'half-migrated')), { timeout: 30_000 }).toBe(true);
      await killed.kill(); // SIGKILL, the supervisor and the gateway's group: no stop, no rollback of its own
      const next = await start(stateDir, '2026.9.6');
      const rolledBack = next.events('gateway.update_rolled_back');
      expect(rolledBack).toHaveLength(1);
      expect(rolledBack[0]).toMatchObject({ from: '2026.9.6', to: '2026.99.0', stage: 'startup' });
      expect(String(rolledBack[0]!['reason'])).toContain('the supervisor stopped while openclaw 2026.99.0 was on trial');
      expect(String(rolledBack[0]!['restoredBackup'])).toMatch(/openclaw-2026\.9\.6-before-2026\.99\.0\.tar\.gz$/);
      // Restored before the first spawn of this start.
      expect(timeOfEvent(next, 'gateway.update_rolled_back')).toBeLessThanOrEqual(timeOfEvent(next, 'gateway.spawned'));
      expect(existsSync(join(stateDir, 'state', 'half-migrated'))).toBe(false);
      await stop();
    }, 400_000);
  });
});

