import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

const isRoot = process.getuid?.() === 0;

/**
 * A state dir on a tiny tmpfs of its own, filled up to the last page: the first start of a new
 * deployment on a full volume. Unmounted in cleanup whatever happened.
 */
describe.runIf(isRoot)('a full disk at the first start', () => {
  let mountPoint: string;
  let filler: string;

  beforeAll(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'ocs-full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', mountPoint]);
    filler = join(mountPoint, 'filler');
  });
  afterAll(() => {
    if (mountPoint === undefined) return;
    try {
      execFileSync('umount', [mountPoint]);
    } catch {
      execFileSync('umount', ['-l', mountPoint]); // busy: detach now, freed once the last user goes
    }
    rmSync(mountPoint, { recursive: true, force: true });
  });

  /** Writes until the file system says ENOSPC (dd stops there), so that not one page is left. */
  function fillUp(): void {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd exits 1 at "No space left on device": that is the point
    }
    expect(() => writeFileSync(join(mountPoint, 'probe'), 'x')).toThrow(/ENOSPC/);
    rmSync(join(mountPoint, 'probe'), { force: true });
  }

  const entries = (dir: string): string[] => {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  };

  it.each<[string, Record<string, string | undefined>, string]>([
    ['the generated token', { OPENCLAW_GATEWAY_TOKEN: undefined }, 'cannot store the generated token'],
    ['the created config', {}, 'cannot write the gateway config'],
  ])('%s: a clear exit 1, nothing half-written; with space back the next start works', async (_name, env, says) => {
    const stateDir = join(mountPoint, `state-${Date.now()}`);
    mkdirSync(stateDir, { mode: 0o700 });
    fillUp();
    try {
      sup = await startSupervisor({ env: { ...env, OPENCLAW_STATE_DIR: stateDir } });
      const exit = await sup.exited;
      expect(exit.code).toBe(1);
      const line = sup.output.find((l) => l.includes(says)) ?? sup.output.join('\n');
      expect(line).toContain('ENOSPC: no space left on the device');
      expect(line).toContain('free space');
      expect(line).not.toMatch(/\n\s+at /); // no stack
      // Whole or absent: no 0-byte token, no empty config, no temporary file.
      expect(entries(stateDir)).toEqual([]);
    } finally {
      rmSync(filler, { force: true });
    }

    sup = await startSupervisor({ env: { ...env, OPENCLAW_STATE_DIR: stateDir } });
    await sup.waitFor('gateway.ready', undefined, 20_000);
    const config = JSON.parse(readFileSync(join(stateDir, 'openclaw.json'), 'utf8')) as { gateway: { trustedProxies: string[] } };
    expect(config.gateway.trustedProxies).toContain('127.0.0.1');
    if ('OPENCLAW_GATEWAY_TOKEN' in env) {
      expect(readFileSync(join(stateDir, 'gateway-token'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(statSync(join(stateDir, 'gateway-token')).mode & 0o777).toBe(0o600);
    }
    expect(sup.events('supervisor.state_repaired')).toEqual([]);
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
  });
});

describe('what an older version left after a full disk', () => {
  it('an empty gateway-token and an empty openclaw.json are replaced, said in one warning; the start works', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ocs-leftover-'));
    writeFileSync(join(stateDir, 'gateway-token'), '', { mode: 0o600 });
    writeFileSync(join(stateDir, 'openclaw.json'), '', { mode: 0o600 });
    sup = await startSupervisor({ env: { OPENCLAW_GATEWAY_TOKEN: undefined, OPENCLAW_STATE_DIR: stateDir } });
    await sup.waitFor('gateway.ready', undefined, 20_000);
    const [repaired, ...more] = sup.events('supervisor.state_repaired');
    expect(more).toEqual([]);
    expect(repaired).toMatchObject({
      level: 'warn',
      files: [
        { path: join(stateDir, 'gateway-token'), was: 'empty' },
        { path: join(stateDir, 'openclaw.json'), was: 'empty' },
      ],
    });
    expect(sup.events('supervisor.starting')[0]).toMatchObject({ tokenOrigin: 'generated' });
    const token = readFileSync(join(stateDir, 'gateway-token'), 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sup.output.filter((line) => line.includes(token))).toEqual([]);
    expect(JSON.parse(readFileSync(join(stateDir, 'openclaw.json'), 'utf8'))).toHaveProperty('gateway.trustedProxies');
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
  });
});
