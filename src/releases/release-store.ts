import { randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import { runBounded, tailOf } from './release-cli.js';

/** One installed openclaw: where its CLI is and what it needs. */
export interface Release {
  readonly version: string;
  /** openclaw.mjs, run as the gateway and as its CLI (its shebang finds Node 24 first on PATH). */
  readonly binary: string;
  /** `engines.node` of its package.json, or null when it names none. */
  readonly enginesNode: string | null;
  /** The image's own (installed with it), or one the supervisor installed into the state volume. */
  readonly source: 'image' | 'store';
}

/**
 * The store's directory in the state dir: `tools/` is one of the roots `openclaw backup create`
 * skips as rebuildable runtimes (measured on 2026.8.2, 2026.9.4 and 2026.9.6), so the ~550 MB of
 * each release and our own backups never end up inside the gateway's backups, while they stay on
 * the state volume and survive redeploys.
 */
export const storeDirOf = (stateDir: string): string => join(stateDir, 'tools', 'openclaw-supervisor');

/**
 * A version exactly as npm spells it (what src/config/release-pin.ts accepts). The store's record and a
 * package.json are files in the state directory, which the gateway can write: only versions get
 * from them into a path, a record or an alert.
 */
function isVersion(value: unknown): value is string {
  return typeof value === 'string' && semver.valid(value) === value;
}

/** An installed openclaw package at `packageDir`, or null when there is none (or a broken one). */
export function readRelease(packageDir: string, source: Release['source']): Release | null {
  try {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown; engines?: { node?: unknown } };
    const binary = join(packageDir, 'openclaw.mjs');
    if (pkg.name !== 'openclaw' || !isVersion(pkg.version) || !existsSync(binary)) return null;
    return { version: pkg.version, binary, enginesNode: typeof pkg.engines?.node === 'string' ? pkg.engines.node : null, source };
  } catch {
    return null;
  }
}

/** The release behind an openclaw binary the image or `npm run runtime` installed (a link into its package), or null. */
export function releaseOfBinary(binary: string): Release | null {
  try {
    return readRelease(dirname(realpathSync(binary)), 'image');
  } catch {
    return null;
  }
}

/**
 * npm's own cache (~/.npm) when it can be written, else (null: none needed) a cache of this
 * install's own in the temporary directory, removed afterwards: a Kubernetes pod's root file
 * system is read-only (deploy/kubernetes), its /tmp an emptyDir.
 */
async function npmCacheFor(env: Record<string, string>): Promise<string | null> {
  if (env['npm_config_cache'] !== undefined) return null;
  const home = env['HOME'] ?? '';
  const writable = async (path: string): Promise<boolean> => access(path, constants.W_OK).then(() => true, () => false);
  if (home !== '' && ((await writable(join(home, '.npm'))) || (!existsSync(join(home, '.npm')) && (await writable(home))))) return null;
  return mkdtemp(join(tmpdir(), 'openclaw-supervisor-npm-'));
}

/** A trial under way: written before the target first runs, cleared once it is accepted or rejected. */
export interface PendingTrial {
  readonly from: string;
  readonly to: string;
  /** The restore point: the state before the target ran. */
  readonly backup: string;
  readonly stateInArchive: string;
}

interface StoreRecord {
  /** The last release that got ready on this state: what a failed step goes back to. */
  readonly lastGood: string | null;
  /**
   * Set while a release is on trial: a supervisor killed then (a stop, SIGKILL, an OOM kill) finds
   * it at its next start and puts the state back before anything runs on it.
   */
  readonly pending?: PendingTrial | null;
}

/**
 * Releases of openclaw installed from the npm registry into the state volume, plus the record of
 * the last good one. Each release is installed into a directory of its own made under a temporary
 * name and renamed into place once complete: a release is whole or absent, never half there.
 */
export class ReleaseStore {
  readonly dir: string;
  readonly #releases: string;
  readonly #record: string;

  constructor(stateDir: string) {
    this.dir = storeDirOf(stateDir);
    this.#releases = join(this.dir, 'releases');
    this.#record = join(this.dir, 'releases.json');
  }

  get backupsDir(): string {
    return join(this.dir, 'backups');
  }

  async #read(): Promise<StoreRecord> {
    try {
      const record = JSON.parse(await readFile(this.#record, 'utf8')) as Partial<StoreRecord>;
      const pending = record.pending;
      const valid = typeof pending === 'object' && pending !== null && isVersion(pending.from) && isVersion(pending.to) && [pending.backup, pending.stateInArchive].every((field) => typeof field === 'string');
      return { lastGood: isVersion(record.lastGood) ? record.lastGood : null, pending: valid ? pending : null };
    } catch {
      return { lastGood: null, pending: null }; // none yet, or unreadable: the image's release is the reference then
    }
  }

  async #write(record: StoreRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#record, `${JSON.stringify(record)}\n`, { replace: true });
  }

  async lastGood(): Promise<string | null> {
    return (await this.#read()).lastGood;
  }

  async pending(): Promise<PendingTrial | null> {
    return (await this.#read()).pending ?? null;
  }

  /** The last good release; any pending trial ends with it. */
  async setLastGood(version: string): Promise<void> {
    await this.#write({ lastGood: version, pending: null });
  }

  async setPending(pending: PendingTrial | null): Promise<void> {
    await this.#write({ lastGood: (await this.#read()).lastGood, pending });
  }

  /** The stored release `version`, or null when it is not installed. */
  installed(version: string): Release | null {
    const release = readRelease(join(this.#releases, version, 'node_modules', 'openclaw'), 'store');
    return release?.version === version ? release : null;
  }

  /**
   * Installs openclaw@version with npm (run by Node 24: openclaw's install script refuses older
   * Node) and returns it; throws with npm's last lines when it cannot.
   */
  async install(version: string, env: Record<string, string>, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Release> {
    const existing = this.installed(version);
    if (existing !== null) return existing;
    await mkdir(this.#releases, { recursive: true, mode: 0o700 });
    const partial = join(this.#releases, `.partial-${version}-${randomBytes(6).toString('hex')}`);
    await mkdir(partial, { mode: 0o700 });
    const cache = await npmCacheFor(env);
    try {
      await writeFile(join(partial, 'package.json'), '{"private":true}\n');
      const npmEnv = { ...env, npm_config_update_notifier: 'false', ...(cache === null ? {} : { npm_config_cache: cache }) };
      const result = await runBounded('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--loglevel=error', `openclaw@${version}`], { env: npmEnv, cwd: partial, timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
      if (result.failure !== null || result.code !== 0) {
        throw new Error(`npm install openclaw@${version} ${result.failure ?? `exited ${result.code}`}: ${tailOf(result.stderr || result.stdout, 3) || 'no output'}`);
      }
      const target = join(this.#releases, version);
      await rm(target, { recursive: true, force: true });
      await rename(partial, target);
    } finally {
      await rm(partial, { recursive: true, force: true });
      if (cache !== null) await rm(cache, { recursive: true, force: true });
    }
    const release = this.installed(version);
    if (release === null) throw new Error(`npm installed openclaw@${version} but its package is not openclaw ${version}`);
    return release;
  }

  /** What a step cut short (a kill, a full disk) left in the store: partial backups, preflight and restore copies. */
  async removeLeftovers(): Promise<void> {
    const entries = async (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
    const work = (await entries(this.dir)).filter((name) => /^(preflight|restore)-[0-9a-f]+$/.test(name)).map((name) => join(this.dir, name));
    const partial = (await entries(this.backupsDir)).filter((name) => name.endsWith('.partial')).map((name) => join(this.backupsDir, name));
    await Promise.all([...work, ...partial].map((path) => rm(path, { recursive: true, force: true })));
  }

  /** Keeps the releases named (the running and the last good one) and removes every other, with leftovers of cut-short installs. */
  async prune(keep: readonly string[]): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#releases);
    } catch {
      return [];
    }
    const removed = names.filter((name) => !keep.includes(name));
    await Promise.all(removed.map((name) => rm(join(this.#releases, name), { recursive: true, force: true })));
    return removed.filter((name) => !name.startsWith('.partial-'));
  }
}
