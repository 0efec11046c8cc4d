import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import { CommandNotFoundError, StartFailure, UsageError } from '../../../src/errors.js';
import type { SupervisorLogger } from '../../../src/log/logger.js';
import { preflight, type PreflightEffects } from '../../../src/preflight/preflight.js';
import { recordingLogger } from '../../helpers/records.js';

/**
 * preflight's decisions in-process: the runtime, the command's resolution, the host facts and the
 * mounts injected; the state dir (token, gateway config) is a real temporary directory.
 */
let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'preflight-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const TOKEN = 'a-token-of-the-test-0123456789';

function logged() {
  const { logger, records } = recordingLogger();
  const secrets: string[] = [];
  const log = { logger, addSecrets: (list: readonly string[]) => secrets.push(...list), flush: () => undefined } as unknown as SupervisorLogger;
  return { log, secrets, events: (name: string) => records.filter((record) => record['event'] === name) };
}

function setup(env: Record<string, string>, effects: Partial<PreflightEffects> = {}) {
  const fullEnv = { OPENCLAW_STATE_DIR: join(home, 'state'), PATH: '/usr/bin:/bin', ...env };
  const invocation = resolveConfig(fullEnv, [], home);
  if (invocation.command !== 'run') throw new Error('not a run');
  const resolved: Array<[string, string, string]> = [];
  const fx: Partial<PreflightEffects> = {
    locateRuntime: () => ({ openclawBinary: '/opt/openclaw/openclaw.mjs', nodeBinDir: '/opt/node24/bin' }),
    resolveOpenclaw: (file, path, cwd) => {
      resolved.push([file, path, cwd]);
      return file;
    },
    cwd: () => '/srv/app',
    readHostFacts: () => ({ dockerenv: true }),
    readStateMounts: async (stateDir) => ({ resolved: stateDir, mounts: [{ mountPoint: '/', fsType: 'overlay' }] }),
    ...effects,
  };
  const l = logged();
  const run = (reaper: 'not-pid1' | 'no-tini' = 'not-pid1') => preflight(invocation.config, l.log, fullEnv, { version: '9.9.9', reaper }, fx);
  return { ...l, run, resolved, config: invocation.config };
}

describe('preflight', () => {
  it('resolves the gateway command with Node 24 first on PATH, from the injected cwd', async () => {
    const s = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN });
    const prepared = await s.run();
    expect(s.resolved).toEqual([['/opt/openclaw/openclaw.mjs', '/opt/node24/bin:/usr/bin:/bin', '/srv/app']]);
    expect(prepared.command.file).toBe('/opt/openclaw/openclaw.mjs');
    expect(prepared.platform.kind).toBe('docker');
    expect(prepared.token).toEqual({ value: TOKEN, origin: 'env', path: null });
  });

  it('a missing gateway command is refused before anything is written', async () => {
    const checkStateDirWritable = vi.fn(async () => undefined);
    const s = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN }, {
      resolveOpenclaw: () => {
        throw new CommandNotFoundError('openclaw not found');
      },
      checkStateDirWritable,
    });
    await expect(s.run()).rejects.toBeInstanceOf(CommandNotFoundError);
    expect(checkStateDirWritable).not.toHaveBeenCalled();
    expect(s.events('supervisor.starting')).toEqual([]);
  });

  it('a generated token is kept in the state dir and registered for redaction before the start record', async () => {
    const s = setup({});
    const prepared = await s.run();
    expect(prepared.token.origin).toBe('generated');
    expect(s.secrets).toEqual([prepared.token.value]);
    expect((await readFile(join(s.config.stateDir, 'gateway-token'), 'utf8')).trim()).toBe(prepared.token.value);
    const [starting] = s.events('supervisor.starting');
    expect(starting).toMatchObject({ version: '9.9.9', tokenOrigin: 'generated', stateDir: s.config.stateDir });
  });

  it.each<[string, NodeJS.ErrnoException | UsageError, new (message: string) => Error, string]>([
    ['a full disk is a start failure (1), nothing half-written', Object.assign(new Error('no space'), { code: 'ENOSPC', path: '/state/openclaw.json' }), StartFailure, 'free space'],
    ['an unwritable place is bad input (2) naming OPENCLAW_CONFIG_PATH', Object.assign(new Error('denied'), { code: 'EACCES', path: '/state/openclaw.json' }), UsageError, 'OPENCLAW_CONFIG_PATH'],
    ['a UsageError already says what to do: passed on as it is', new UsageError('a dangling symlink at /state/openclaw.json'), UsageError, 'a dangling symlink'],
  ])('the gateway config cannot be prepared: %s', async (_name, error, kind, mentions) => {
    const s = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN }, { prepareGatewayConfig: async () => Promise.reject(error) });
    const failure = await s.run().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(kind);
    expect((failure as Error).message).toContain(mentions);
  });

  it("the state on the container's own filesystem is said once; on a volume, nothing", async () => {
    const onRoot = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN });
    await onRoot.run();
    expect(onRoot.events('supervisor.state_not_persistent')).toEqual([expect.objectContaining({ platform: 'docker', reason: expect.stringContaining('not on a volume') })]);

    const onVolume = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN }, { readStateMounts: async (stateDir) => ({ resolved: stateDir, mounts: [{ mountPoint: '/', fsType: 'overlay' }, { mountPoint: home, fsType: 'ext4' }] }) });
    await onVolume.run();
    expect(onVolume.events('supervisor.state_not_persistent')).toEqual([]);
  });

  it('locally (no container) the mounts do not matter', async () => {
    const s = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN }, { readHostFacts: () => ({ dockerenv: false }) });
    const prepared = await s.run();
    expect(prepared.platform.kind).toBe('local');
    expect(s.events('supervisor.state_not_persistent')).toEqual([]);
  });

  it('Railway without draining time is warned about; with it, not', async () => {
    const railway = { RAILWAY_DEPLOYMENT_ID: 'd', RAILWAY_VOLUME_MOUNT_PATH: home, OPENCLAW_GATEWAY_TOKEN: TOKEN };
    const without = setup(railway);
    await without.run();
    expect(without.events('supervisor.no_draining_time')).toHaveLength(1);
    const withDraining = setup({ ...railway, RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30' });
    await withDraining.run();
    expect(withDraining.events('supervisor.no_draining_time')).toEqual([]);
  });

  it('PID 1 without tini is warned about', async () => {
    const s = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN });
    await s.run('no-tini');
    expect(s.events('supervisor.no_reaper')).toEqual([expect.objectContaining({ reason: 'no-tini' })]);
    const quiet = setup({ OPENCLAW_GATEWAY_TOKEN: TOKEN });
    await quiet.run('not-pid1');
    expect(quiet.events('supervisor.no_reaper')).toEqual([]);
  });
});
