import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDockerfile } from '../helpers/dockerfile.js';
import { CONTAINERS_CONF, podman } from './podman.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** npm's global config file in the base image (made there empty, so mounting over it leaves nothing behind). */
const NPM_GLOBAL_CONFIG = '/usr/local/etc/npmrc';

/** The paths the Dockerfile copies from the build context (COPY without --from), in order. */
export function contextPaths(dockerfile: string): string[] {
  const paths = new Set<string>();
  for (const { keyword, args } of parseDockerfile(dockerfile)) {
    if ((keyword !== 'COPY' && keyword !== 'ADD') || /(^|\s)--from=/.test(args)) continue;
    const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter((word) => !word.startsWith('--'));
    for (const source of words.slice(0, -1)) paths.add(source.replace(/^\.\//, '').replace(/\/$/, ''));
  }
  return [...paths];
}

/**
 * A build context with exactly what the Dockerfile copies, plus the Dockerfile and .dockerignore
 * (podman applies it, as Docker does). From the working tree, or from a git revision when
 * OPENCLAW_IMAGE_TEST_REF names one (a stable source while the working tree is in flux).
 */
export function makeContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-image-context-'));
  const ref = process.env['OPENCLAW_IMAGE_TEST_REF'];
  if (ref !== undefined && ref !== '') {
    const dockerfile = join(dir, 'Dockerfile');
    writeFileSync(dockerfile, execFileSync('git', ['show', `${ref}:Dockerfile`], { cwd: ROOT }));
    const paths = ['Dockerfile', ...contextPaths(dockerfile)];
    const ignore = execFileSync('git', ['ls-tree', '--name-only', ref, '.dockerignore'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (ignore !== '') paths.push('.dockerignore');
    const tar = execFileSync('git', ['archive', '--format=tar', ref, '--', ...paths], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    return dir;
  }
  const dockerfile = join(ROOT, 'Dockerfile');
  for (const path of ['Dockerfile', '.dockerignore', ...contextPaths(dockerfile)]) {
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  }
  return dir;
}

export interface Built {
  readonly tag: string;
  readonly baseSeconds: number;
  readonly buildSeconds: number;
  /** Steps podman took from its layer cache, of all steps. */
  readonly cachedSteps: number;
  readonly steps: number;
}

/**
 * Makes the local base image (cached) and builds the repository's Dockerfile unchanged with
 * podman: `--pull=never`; the host's CA bundle is mounted for npm at build time only; npm's cache
 * is the host's, mounted as an overlay so that the Dockerfile's `npm cache clean --force` empties
 * only the overlay; docker format, since OCI images drop HEALTHCHECK.
 */
export async function buildImage(tag: string): Promise<Built> {
  let started = performance.now();
  execFileSync('bash', [join(import.meta.dirname, 'make-base-image.sh')], {
    env: { ...process.env, CONTAINERS_CONF },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseSeconds = (performance.now() - started) / 1000;
  const context = makeContext();
  const scratch = mkdtempSync(join(tmpdir(), 'openclaw-image-npmrc-'));
  try {
    const npmrc = join(scratch, 'npmrc');
    writeFileSync(npmrc, `cafile=${HOST_CA_BUNDLE}\n`);
    const npmCache = join(homedir(), '.npm');
    const volumes = [`${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`, `${npmrc}:${NPM_GLOBAL_CONFIG}:ro`];
    if (existsSync(npmCache)) volumes.push(`${npmCache}:/root/.npm:O`);
    started = performance.now();
    const run = await podman(
      ['build', '--pull=never', '--format', 'docker', '--layers', ...volumes.flatMap((volume) => ['--volume', volume]), '--tag', tag, context],
      20 * 60_000,
    );
    if (run.code !== 0) throw new Error(`podman build exited ${run.code}:\n${(run.stdout + run.stderr).split('\n').slice(-40).join('\n')}`);
    return {
      tag,
      baseSeconds,
      buildSeconds: (performance.now() - started) / 1000,
      cachedSteps: run.stdout.split('\n').filter((line) => line.startsWith('--> Using cache')).length,
      steps: run.stdout.split('\n').filter((line) => /^\[\d+\/\d+\] STEP |^STEP /.test(line)).length,
    };
  } finally {
    rmSync(context, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}
