import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { managedNodeBin } from '../../scripts/runtime-path.mjs';
import { envOf, parseDockerfile } from '../helpers/dockerfile.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const instructions = parseDockerfile(join(ROOT, 'Dockerfile'));
const finalStage = Math.max(...instructions.map((i) => i.stage));
const final = instructions.filter((i) => i.stage === finalStage);
const one = (keyword: string): string => {
  const found = final.filter((i) => i.keyword === keyword);
  expect(found, `exactly one ${keyword} in the final stage`).toHaveLength(1);
  return found[0]!.args;
};
const pins = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { openclawRuntime: { openclaw: string } }).openclawRuntime;

describe('Dockerfile', () => {
  it('is multi-stage and ships on a Node 24 slim base with the pinned openclaw', () => {
    expect(finalStage).toBeGreaterThanOrEqual(1);
    expect(one('FROM')).toMatch(/^node:24[\w.-]*slim/);
    expect(final.find((i) => i.keyword === 'ARG' && i.args.startsWith('OPENCLAW_VERSION'))?.args).toBe(`OPENCLAW_VERSION=${pins.openclaw}`);
    expect(final.some((i) => i.keyword === 'RUN' && i.args.includes('openclaw@${OPENCLAW_VERSION}'))).toBe(true);
    // Only runtime files reach the final image: no sources, no dev dependencies.
    expect(final.filter((i) => i.keyword === 'COPY').map((i) => i.args)).toEqual([
      '--from=build /app/package.json ./package.json',
      '--from=build /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
    expect(instructions.some((i) => i.stage === 0 && i.keyword === 'RUN' && i.args.includes('npm prune --omit=dev'))).toBe(true);
  });

  it('starts as root and drops to node (SUPERVISOR_RUN_AS), in exec form, with the healthcheck subcommand and no curl', () => {
    // No USER: root prepares root-owned volumes (Docker's, Railway's), then the supervisor runs as node.
    expect(final.filter((i) => i.keyword === 'USER')).toEqual([]);
    expect(envOf(instructions, finalStage)).toMatchObject({ SUPERVISOR_RUN_AS: 'node' });
    // The state dir exists in the image, node's: a new Docker named volume mounted there copies that owner.
    expect(final.some((i) => i.keyword === 'RUN' && /install -d -o node -g node -m 0700 \/home\/node\/\.openclaw/.test(i.args))).toBe(true);
    expect(JSON.parse(one('ENTRYPOINT'))).toEqual(['node', '/app/dist/cli.js']);
    expect(one('EXPOSE')).toBe('8080');
    expect(one('STOPSIGNAL')).toBe('SIGTERM');
    const healthcheck = one('HEALTHCHECK');
    expect(JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim())).toEqual(['node', '/app/dist/cli.js', 'healthcheck']);
    expect(healthcheck).not.toMatch(/curl|wget/);
    expect(final.some((i) => i.keyword === 'RUN' && i.args.includes('install') && i.args.includes('tini'))).toBe(true);
    expect(envOf(instructions, finalStage)).toMatchObject({ PORT: '8080', HOST: '::' });
  });

  it('sends only what it copies as build context (.dockerignore): no node_modules, no .runtime, no dist', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const kept = ignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    const copied = instructions.filter((i) => i.stage === 0 && i.keyword === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(kept.sort()).toEqual([...copied].sort());
  });

  it('is what the README documents', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('ENTRYPOINT ["node", "/app/dist/cli.js"]');
    expect(readme).toContain('HEALTHCHECK');
    expect(readme).toContain('openclaw-supervisor healthcheck');
  });
});

/**
 * The image's ENTRYPOINT and HEALTHCHECK argv, run as the image would: its ENV, /app laid out
 * like the image (dist, package.json, node_modules, no .runtime), Node 24 first on PATH and
 * openclaw found on PATH like the global install, against the real gateway.
 */
describe('the image command against the real gateway', () => {
  let sup: RunningSupervisor | undefined;
  afterAll(async () => {
    await sup?.kill();
  });

  it('starts, turns healthy for the HEALTHCHECK command and stops with 0', async () => {
    const app = mkdtempSync(join(tmpdir(), 'ocs-app-'));
    cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    const node24 = managedNodeBin(ROOT);
    const openclawBin = join(ROOT, '.runtime', 'openclaw', 'node_modules', '.bin');
    const imageEnv = envOf(instructions, finalStage);
    const port = String(await freePort());
    const path = `${node24}:${openclawBin}:/usr/local/bin:/usr/bin:/bin`;
    const mapArgv = (argv: string[]): string[] => argv.map((arg) => arg.replace(/^\/app\//, `${app}/`));
    const entrypoint = mapArgv(JSON.parse(one('ENTRYPOINT')) as string[]);
    const healthcheck = one('HEALTHCHECK');
    const healthArgv = mapArgv(JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()) as string[]);
    const home = mkdtempSync(join(tmpdir(), 'ocs-home-'));
    // SUPERVISOR_RUN_AS: this machine has no `node` account; the drop is tested in the built image (test/image) and in test/integration/run-as.test.ts.
    const env = { ...imageEnv, SUPERVISOR_RUN_AS: undefined, PATH: path, HOME: home, PORT: port, OPENCLAW_STATE_DIR: undefined, OPENCLAW_GATEWAY_TOKEN: undefined };
    const runHealthcheck = (): { code: number; out: string } => {
      try {
        const out = execFileSync(healthArgv[0]!, healthArgv.slice(1), { env: { ...imageEnv, SUPERVISOR_RUN_AS: '', PATH: path, PORT: port }, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
        return { code: 0, out };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { code: failed.status, out: failed.stderr };
      }
    };

    sup = await startSupervisor({ gateway: null, env, wrap: () => entrypoint });
    const spawned = await sup.waitFor('gateway.spawned', undefined, 20_000);
    // openclaw came from PATH, as in the image (its package found through the link there: the
    // image's own release, src/releases/), and node is Node 24.
    expect((spawned['command'] as string[])[0]).toBe(join(realpathSync(join(openclawBin, 'openclaw')), '..', 'openclaw.mjs'));
    expect(sup.events('gateway.release')[0]).toMatchObject({ source: 'image', pinned: null });
    expect(sup.events('supervisor.starting')[0]?.['node']).toMatch(/^v24\./);
    const before = runHealthcheck();
    expect(before.code).toBe(1);
    expect(before.out).toMatch(/^not ready: .*\/readyz answered 503/);
    await sup.waitFor('gateway.ready', undefined, 120_000);
    const after = runHealthcheck();
    expect(after).toMatchObject({ code: 0 });
    expect(after.out).toMatch(/^ready: /);
    // The state dir defaults to ~/.openclaw and the token was generated there (mode 0600).
    expect(sup.events('supervisor.starting')[0]).toMatchObject({ tokenOrigin: 'generated', stateDir: join(home, '.openclaw') });
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
  }, 150_000);
});

