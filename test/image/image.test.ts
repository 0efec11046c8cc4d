/**
 * The image as deployed (issue 17): built from the unchanged Dockerfile with podman (runc) against
 * a local stand-in for node:24-bookworm-slim (make-base-image.sh), then run the ways the README
 * says: its Docker command, Railway's start command with a volume, a Kubernetes pod. Containers run
 * one at a time (2 cores) and share one image; only loopback is published; everything made here
 * carries TEST_LABEL and is removed afterwards, also after a failure or a killed earlier run.
 *
 * Not checked here (podman 4.3 cannot, or it is the platform's own behaviour): Railway's and
 * Docker's own volume handling (podman chowns a new volume to the container's user; the volumes
 * here are made root-owned explicitly, as an earlier root run leaves them); in the pod, the
 * startup and readiness probes (ignored by `kube play`), the liveness probe (turned into a
 * HEALTHCHECK that curls port 0: named ports are not resolved and the image has no curl), fsGroup,
 * resource requests, ephemeral-storage and emptyDir size limits, terminationGracePeriodSeconds,
 * the Service, enableServiceLinks and the service-account token (no API server).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { buildImage, type Built } from './build-image.js';
import { cgroupMemoryOf, podman, podmanOk, processesInPidNamespaceOf, removeLabelled, TEST_LABEL } from './podman.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TAG = 'localhost/openclaw-supervisor:image-test';
const PREFIX = `ocs-image-test-${process.pid}`;
const NODE_UID = 1000;
const READY_TIMEOUT_MS = 240_000;
const STOP_BOUND_MS = 10_000;
const RAILWAY_MARKERS = ['RAILWAY_DEPLOYMENT_ID', 'RAILWAY_PROJECT_ID', 'RAILWAY_SERVICE_ID', 'RAILWAY_ENVIRONMENT_ID', 'RAILWAY_REPLICA_ID'];
const RAILWAY_PORT = 3000;
const LEFT_BY_ROOT = 'left-by-an-earlier-root-run';

/** Measured figures, printed at the end (docs/measured-facts.md, "The image", quotes them). */
const figures: Record<string, unknown> = {};
let built: Built;

type LogRecord = Record<string, unknown>;

const label = ['--label', TEST_LABEL];
const env = (vars: Record<string, string>): string[] => Object.entries(vars).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
const railwayEnv = (): Record<string, string> => ({
  ...Object.fromEntries(RAILWAY_MARKERS.map((name) => [name, randomBytes(8).toString('hex')])),
  RAILWAY_ENVIRONMENT_NAME: 'production',
  RAILWAY_VOLUME_MOUNT_PATH: '/data',
  RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30',
  PORT: String(RAILWAY_PORT),
});

async function mountpointOf(volume: string): Promise<string> {
  return (await podmanOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume])).trim();
}

/**
 * A named volume as an earlier root run leaves it: used once (so podman's chown of a new volume
 * to the container's user is spent), its root and `subdir` root-owned, a root-owned file inside.
 */
async function rootOwnedVolume(name: string, subdir = ''): Promise<string> {
  await podmanOk(['volume', 'create', ...label, name]);
  await podmanOk(['run', '--rm', ...label, '--user', '0', '--entrypoint', 'true', '--volume', `${name}:/earlier`, TAG]);
  const mountpoint = await mountpointOf(name);
  const dir = join(mountpoint, subdir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, LEFT_BY_ROOT), 'root was here\n', { mode: 0o600 });
  for (const path of [mountpoint, dir, join(dir, LEFT_BY_ROOT)]) expect(lstatSync(path).uid, path).toBe(0);
  return mountpoint;
}

/** Entries under `dir` (itself included) not owned by node:node, as "path uid:gid". */
function notOwnedByNode(dir: string): string[] {
  const wrong: string[] = [];
  const visit = (path: string): void => {
    const stat = lstatSync(path);
    if (stat.uid !== NODE_UID || stat.gid !== NODE_UID) wrong.push(`${path} ${stat.uid}:${stat.gid}`);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  visit(dir);
  return wrong;
}

/** Relative paths of the regular files under `dir`. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`) : entry.isFile() ? [`${prefix}${entry.name}`] : [],
  );
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

async function run(name: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  await podmanOk(['run', '--detach', '--name', name, ...label, ...args]);
  return started;
}

async function inspect(name: string, format: string): Promise<string> {
  return (await podmanOk(['inspect', '--format', format, name])).trim();
}

async function logsOf(name: string): Promise<{ stdout: string; stderr: string; records: LogRecord[] }> {
  const { stdout, stderr } = await podman(['logs', name]);
  const records = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogRecord];
      } catch {
        return [];
      }
    });
  return { stdout, stderr, records };
}

async function readyzStatus(port: number): Promise<number | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

/** Polls /readyz through the published loopback port until 200; fails at once if the container ended. */
async function waitReady(name: string, port: number, started: number): Promise<number> {
  const deadline = started + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if ((await readyzStatus(port)) === 200) return performance.now() - started;
    if ((await inspect(name, '{{.State.Running}}')) !== 'true') {
      const { stdout, stderr } = await logsOf(name);
      throw new Error(`${name} ended before it was ready (exit ${await inspect(name, '{{.State.ExitCode}}')}):\n${(stdout + stderr).slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms:\n${(await logsOf(name)).stdout.slice(-4000)}`);
}

/** `podman stop`: its duration and the container's exit code (the default 10 s grace before SIGKILL). */
async function stop(name: string): Promise<{ ms: number; exitCode: number }> {
  const run = await podman(['stop', name], 60_000);
  expect(run.code, run.stderr).toBe(0);
  return { ms: run.ms, exitCode: Number(await inspect(name, '{{.State.ExitCode}}')) };
}

function privilegeDrops(records: readonly LogRecord[]): LogRecord[] {
  return records.filter((record) => record['event'] === 'supervisor.privileges_dropped');
}

beforeAll(async () => {
  await removeLabelled();
  built = await buildImage(TAG);
  figures['build'] = built;
  figures['imageBytes'] = Number(await inspect(TAG, '{{.Size}}'));
}, 30 * 60_000);

afterAll(async () => {
  await removeLabelled();
  console.log(`[image figures] ${JSON.stringify(figures)}`);
}, 120_000);

describe("the README's Docker command, on a root-owned named volume", () => {
  const name = `${PREFIX}-docker`;
  const volume = `${PREFIX}-docker-state`;
  let port = 0;
  let started = 0;
  let mountpoint = '';

  beforeAll(async () => {
    mountpoint = await rootOwnedVolume(volume);
    port = await freePort();
    const token = randomBytes(32).toString('hex');
    // The README's command (`docker run --rm -p 8080:8080 -e OPENCLAW_GATEWAY_TOKEN=… -v
    // openclaw-state:/home/node/.openclaw openclaw-supervisor`), published on loopback only and
    // without --rm, so that the exit code and the logs can be read after the stop.
    started = await run(name, ['--publish', `127.0.0.1:${port}:8080`, ...env({ OPENCLAW_GATEWAY_TOKEN: token }), '--volume', `${volume}:/home/node/.openclaw`, TAG]);
  }, 120_000);

  afterAll(async () => {
    await podman(['rm', '--force', '--time', '0', name]);
    await podman(['volume', 'rm', '--force', volume]);
  }, 60_000);

  it('is unhealthy to the HEALTHCHECK before it is ready', async () => {
    const check = await podman(['healthcheck', 'run', name]);
    expect(await readyzStatus(port), 'ready already: the check did not run before ready').not.toBe(200);
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toMatch(/unhealthy/);
  });

  it('becomes ready: /readyz 200 through the port published on loopback', async () => {
    figures['dockerReadyMs'] = Math.round(await waitReady(name, port, started));
  }, READY_TIMEOUT_MS + 30_000);

  it('is healthy to the HEALTHCHECK once ready', async () => {
    const check = await podman(['healthcheck', 'run', name]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).not.toMatch(/unhealthy/);
  });

  it('gave the state dir to node (one privileges_dropped record, repaired >= 1) and runs as node', async () => {
    const drops = privilegeDrops((await logsOf(name)).records);
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ user: 'node', uid: NODE_UID, gid: NODE_UID, stateDir: '/home/node/.openclaw' });
    expect(drops[0]!['repaired']).toBeGreaterThanOrEqual(1);
    expect(notOwnedByNode(mountpoint)).toEqual([]);
    expect(existsSync(join(mountpoint, LEFT_BY_ROOT))).toBe(true);
  });

  it('has tini as PID 1, nothing but tini as root, no zombies', async () => {
    const pid1 = Number(await inspect(name, '{{.State.Pid}}'));
    const processes = processesInPidNamespaceOf(pid1);
    const tini = processes.find((process) => process.pid === pid1);
    expect(tini?.name).toBe('tini');
    expect(processes.length).toBeGreaterThanOrEqual(3);
    const root = processes.filter((process) => process.pid !== pid1 && process.uids.some((uid) => uid === 0));
    expect(root.map((process) => `${process.pid} ${process.name} ${process.uids.join('/')}`)).toEqual([]);
    expect(processes.filter((process) => process.state === 'Z')).toEqual([]);
    figures['dockerProcesses'] = processes.map(({ name: command, rssKiB }) => `${command} ${Math.round(rssKiB / 1024)} MiB`);
    figures['dockerRssMiB'] = Math.round(processes.reduce((sum, process) => sum + process.rssKiB, 0) / 1024);
    const charged = cgroupMemoryOf(pid1, 'memory.usage_in_bytes');
    if (charged !== null) figures['dockerCgroupMiB'] = Math.round(charged / 2 ** 20);
  });

  it('runs the real openclaw found next to node, and `openclaw` from a root exec reaches this gateway as node, leaving nothing root-owned', async () => {
    const spawned = (await logsOf(name)).records.find((record) => record['event'] === 'gateway.spawned');
    expect((spawned?.['command'] as string[])[0]).toBe('/usr/local/lib/node_modules/openclaw/openclaw.mjs');
    // `podman exec` runs as root (the image has no USER), like `docker exec`, `railway ssh` and `kubectl exec`.
    const listing = await podman(['exec', name, 'openclaw', 'devices', 'list', '--json'], 120_000);
    expect(listing.code, listing.stderr).toBe(0);
    expect(JSON.parse(listing.stdout)).toMatchObject({ pending: expect.any(Array) });
    expect(notOwnedByNode(mountpoint)).toEqual([]);
  }, 150_000);

  it("runs the supervisor on jemalloc (its PID 1 hand-over), the gateway on glibc's malloc", async () => {
    const pid1 = Number(await inspect(name, '{{.State.Pid}}'));
    const processes = processesInPidNamespaceOf(pid1);
    const read = (pid: number, file: string): string => {
      try {
        return readFileSync(`/proc/${pid}/${file}`, 'utf8');
      } catch {
        return ''; // ended meanwhile
      }
    };
    const parentOf = (pid: number): number => Number(/^PPid:\s*(\d+)$/m.exec(read(pid, 'status'))?.[1]);
    const mapsOf = (pid: number): string => read(pid, 'maps');
    // The supervisor is tini's only child (Node 24 names its main thread MainThread); everything
    // else is the gateway's tree (its name is cut to 15 characters: openclaw-gatewa).
    const supervisor = processes.filter((process) => process.pid !== pid1 && parentOf(process.pid) === pid1);
    const gatewayTree = processes.filter((process) => process.pid !== pid1 && !supervisor.includes(process));
    expect(supervisor).toHaveLength(1);
    expect(gatewayTree.map((process) => process.name)).toContain('openclaw-gatewa');
    expect(mapsOf(supervisor[0]!.pid)).toContain('libjemalloc.so.2');
    expect(gatewayTree.filter((process) => mapsOf(process.pid).includes('libjemalloc.so.2')).map((process) => process.name)).toEqual([]);
  });

  it("runs the image's own openclaw release, and `update --check` from a root exec reaches this supervisor as node", async () => {
    const release = (await logsOf(name)).records.find((record) => record['event'] === 'gateway.release');
    const imageRelease = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { openclawRuntime: { openclaw: string } }).openclawRuntime.openclaw;
    expect(release).toMatchObject({ version: imageRelease, source: 'image', pinned: null });
    const check = await podman(['exec', name, 'node', '/app/dist/cli.js', 'update', '--check'], 120_000);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`running:   openclaw ${imageRelease} (the image's own)`);
    expect(check.stdout).toContain(`last good: ${imageRelease}`);
    expect(existsSync(join(mountpoint, 'tools', 'openclaw-supervisor', 'control.sock'))).toBe(true);
    expect(notOwnedByNode(mountpoint)).toEqual([]);
  }, 150_000);

  it('stops on `podman stop` with exit code 0 within 10 s', async () => {
    const { ms, exitCode } = await stop(name);
    figures['dockerStopMs'] = Math.round(ms);
    expect(exitCode).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
  }, 60_000);
});

describe("Railway's start command, a root-owned volume at /data", () => {
  const volume = `${PREFIX}-railway-data`;
  let mountpoint = '';
  const snapshots: { token: string; files: string[] }[] = [];

  beforeAll(async () => {
    mountpoint = await rootOwnedVolume(volume, '.openclaw');
  }, 120_000);

  afterAll(async () => {
    await podman(['volume', 'rm', '--force', volume]);
  }, 60_000);

  /** One deploy: railway.toml's startCommand replaces the ENTRYPOINT; Railway sets PORT and its markers. */
  async function deploy(name: string, extra: readonly string[]): Promise<void> {
    const port = await freePort();
    try {
      const started = await run(name, [
        ...extra,
        '--entrypoint',
        '["node","/app/dist/cli.js"]',
        '--publish',
        `127.0.0.1:${port}:${RAILWAY_PORT}`,
        ...env(railwayEnv()),
        '--volume',
        `${volume}:/data`,
        TAG,
      ]);
      figures[`${name.slice(PREFIX.length + 1)}ReadyMs`] = Math.round(await waitReady(name, port, started));
      const drops = privilegeDrops((await logsOf(name)).records);
      expect(drops).toHaveLength(1);
      expect(drops[0]).toMatchObject({ user: 'node', uid: NODE_UID, stateDir: '/data/.openclaw' });
      const pid1 = Number(await inspect(name, '{{.State.Pid}}'));
      const processes = processesInPidNamespaceOf(pid1);
      expect(processes.find((process) => process.pid === pid1)?.name).toBe('tini');
      expect(processes.filter((process) => process.pid !== pid1 && process.uids.includes(0)).map((process) => process.name)).toEqual([]);
      const { exitCode } = await stop(name);
      expect(exitCode).toBe(0);
      expect(notOwnedByNode(join(mountpoint, '.openclaw'))).toEqual([]);
      snapshots.push({ token: sha256(join(mountpoint, '.openclaw', 'gateway-token')), files: filesUnder(join(mountpoint, '.openclaw')) });
    } finally {
      await podman(['rm', '--force', '--time', '0', name]);
    }
  }

  it('as the image\'s default user (no RAILWAY_RUN_UID): ready, the state in /data/.openclaw owned by node', async () => {
    await deploy(`${PREFIX}-railway`, []);
  }, READY_TIMEOUT_MS + 90_000);

  it('as root (--user 0, RAILWAY_RUN_UID=0): ready, the state still owned by node', async () => {
    await deploy(`${PREFIX}-railway-root`, ['--user', '0', ...env({ RAILWAY_RUN_UID: '0' })]);
  }, READY_TIMEOUT_MS + 90_000);

  it('a redeploy (a new container on the same volume) keeps the state: the same stored token, every earlier file', () => {
    expect(snapshots).toHaveLength(2);
    const [first, second] = snapshots as [(typeof snapshots)[0], (typeof snapshots)[0]];
    expect(second.token).toBe(first.token);
    expect(first.files).toContain('gateway-token');
    expect(first.files).toContain('openclaw.json');
    expect(first.files.filter((file) => !second.files.includes(file))).toEqual([]);
  });
});

describe('started unprivileged (--user 1000) on a root-owned volume', () => {
  const volume = `${PREFIX}-unwritable`;

  beforeAll(async () => {
    await rootOwnedVolume(volume, '.openclaw');
  }, 120_000);

  afterAll(async () => {
    await podman(['volume', 'rm', '--force', volume]);
  }, 60_000);

  async function refused(name: string, args: readonly string[]): Promise<string[]> {
    try {
      await run(name, ['--user', String(NODE_UID), ...args]);
      const waited = await podman(['wait', name], 120_000);
      expect(Number(waited.stdout.trim()), (await logsOf(name)).stdout).toBe(2);
      const { stderr } = await logsOf(name);
      expect(stderr).not.toMatch(/^\s+at /m);
      return stderr.split('\n').filter((line) => line.trim() !== '');
    } finally {
      await podman(['rm', '--force', '--time', '0', name]);
    }
  }

  it('on Railway: exit 2, one line that names RAILWAY_RUN_UID=0', async () => {
    const lines = await refused(`${PREFIX}-unwritable-railway`, ['--entrypoint', '["node","/app/dist/cli.js"]', ...env(railwayEnv()), '--volume', `${volume}:/data`, TAG]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('RAILWAY_RUN_UID=0');
  }, 150_000);

  it('with Docker: exit 2, one line that names a start without --user', async () => {
    const lines = await refused(`${PREFIX}-unwritable-docker`, ['--volume', `${volume}:/home/node/.openclaw`, TAG]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--user/);
  }, 150_000);
});

describe("Kubernetes: the StatefulSet's pod template as a Pod (podman kube play)", () => {
  const pod = `${PREFIX}-kube`;
  const secret = `${PREFIX}-openclaw`;
  const volumes = { state: `${PREFIX}-kube-state`, tmp: `${PREFIX}-kube-tmp`, cache: `${PREFIX}-kube-cache` };
  const scratch = join(tmpdir(), `${PREFIX}-kube`);
  const container = `${pod}-openclaw`;

  afterAll(async () => {
    await podman(['pod', 'rm', '--force', '--time', '0', pod]);
    await podman(['volume', 'rm', '--force', ...Object.values(volumes)]);
    await podman(['secret', 'rm', secret]);
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  /**
   * The template, changed only where podman 4.3 needs it: the image built here; the claim as a
   * podman volume; podman's secret name; a hostPort on loopback; the volumes' names prefixed (kube
   * play makes emptyDirs as named volumes); the variable the kubelet injects into every container.
   */
  function podFromTemplate(port: number): Record<string, unknown> {
    /* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
    const statefulSet = parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'statefulset.yaml'), 'utf8')) as any;
    const template = structuredClone(statefulSet.spec.template);
    const spec = template.spec;
    expect(spec.containers).toHaveLength(1);
    const main = spec.containers[0];
    main.image = TAG;
    for (const entry of main.env) if (entry.valueFrom?.secretKeyRef) entry.valueFrom.secretKeyRef.name = secret;
    main.env.push({ name: 'KUBERNETES_SERVICE_HOST', value: '10.96.0.1' });
    const http = main.ports.find((entry: any) => entry.name === 'http');
    Object.assign(http, { hostPort: port, hostIP: '127.0.0.1' });
    const rename = (volumeName: string): string => volumes[volumeName as keyof typeof volumes] ?? volumeName;
    for (const mount of main.volumeMounts) mount.name = rename(mount.name);
    for (const volume of spec.volumes) volume.name = rename(volume.name);
    for (const claim of statefulSet.spec.volumeClaimTemplates) {
      spec.volumes.push({ name: rename(claim.metadata.name), persistentVolumeClaim: { claimName: rename(claim.metadata.name) } });
    }
    const [key, value] = TEST_LABEL.split('=') as [string, string];
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { ...template.metadata.labels, [key]: value } }, spec };
    /* eslint-enable @typescript-eslint/no-explicit-any */
  }

  it('runs as far as podman allows: ready, read-only root, uid 1000 throughout, no capabilities, the state owned by node', async () => {
    mkdirSync(scratch, { recursive: true });
    const port = await freePort();
    for (const volume of Object.values(volumes)) await podmanOk(['volume', 'create', ...label, volume]);
    // podman 4.3 reads a secretKeyRef from a podman secret holding a JSON map of base64 values.
    const secretFile = join(scratch, 'secret.json');
    writeFileSync(secretFile, JSON.stringify({ 'gateway-token': Buffer.from(randomBytes(32).toString('hex')).toString('base64') }), { mode: 0o600 });
    await podmanOk(['secret', 'create', secret, secretFile]);
    rmSync(secretFile);
    const podFile = join(scratch, 'pod.yaml');
    writeFileSync(podFile, stringify(podFromTemplate(port)));
    const started = performance.now();
    await podmanOk(['kube', 'play', podFile]);
    figures['kubeReadyMs'] = Math.round(await waitReady(container, port, started));

    expect(await inspect(container, '{{.HostConfig.ReadonlyRootfs}}')).toBe('true');
    const pid1 = Number(await inspect(container, '{{.State.Pid}}'));
    const processes = processesInPidNamespaceOf(pid1);
    expect(processes.find((process) => process.pid === pid1)?.name).toBe('tini');
    expect(processes.filter((process) => process.uids.some((uid) => uid !== NODE_UID)).map((process) => process.name)).toEqual([]);
    expect(processes.filter((process) => process.state === 'Z')).toEqual([]);
    for (const { pid } of processes) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status, `pid ${pid}`).toMatch(/^CapEff:\s*0+$/m);
      expect(status, `pid ${pid}`).toMatch(/^NoNewPrivs:\s*1$/m);
      expect(status, `pid ${pid}`).toMatch(/^Seccomp:\s*2$/m);
    }
    // Without root there is nothing to drop.
    expect(privilegeDrops((await logsOf(container)).records)).toEqual([]);
    expect(notOwnedByNode(await mountpointOf(volumes.state))).toEqual([]);
    const limit = cgroupMemoryOf(pid1, 'memory.limit_in_bytes');
    if (limit !== null) expect(limit).toBe(2 * 2 ** 30);
  }, READY_TIMEOUT_MS + 60_000);
});
