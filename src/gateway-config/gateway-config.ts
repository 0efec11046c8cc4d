import { lstat, mkdir, readFile, readlink, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import { LOOPBACK_ADDRESSES } from '../host/loopback.js';

/** The front door on loopback is the gateway's only direct client that may attribute others. */
export const LOOPBACK_PROXIES = LOOPBACK_ADDRESSES;

export interface RequiredGatewayConfig {
  /**
   * gateway.trustedProxies must hold these: loopback only. The front door walks the chain itself and
   * sends one address, the client's; were the gateway to trust SUPERVISOR_TRUSTED_PROXIES too, a
   * trusted proxy's own request (the client is the proxy) would be refused with 403.
   */
  readonly trustedProxies: readonly string[];
  /** gateway.controlUi.allowedOrigins must hold these. */
  readonly allowedOrigins: readonly string[];
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Adds what the supervisor needs to a parsed config without removing anything: array entries are
 * unioned, other values untouched. Returns null when the config's shape is not one we may edit
 * (a non-object `gateway`, a non-array list, a root `$include`).
 */
export function withRequiredKeys(config: unknown, required: RequiredGatewayConfig): { config: JsonObject; changed: boolean } | null {
  if (!isObject(config) || '$include' in config) return null;
  const gateway = config['gateway'] ?? {};
  if (!isObject(gateway)) return null;
  const controlUi = gateway['controlUi'] ?? {};
  if (!isObject(controlUi)) return null;
  const proxies = gateway['trustedProxies'] ?? [];
  const origins = controlUi['allowedOrigins'] ?? [];
  if (!Array.isArray(proxies) || !Array.isArray(origins)) return null;

  const missingProxies = required.trustedProxies.filter((entry) => !proxies.includes(entry));
  const missingOrigins = required.allowedOrigins.filter((entry) => !origins.includes(entry));
  if (missingProxies.length === 0 && missingOrigins.length === 0) return { config, changed: false };
  const nextGateway: JsonObject = { ...gateway, trustedProxies: [...proxies, ...missingProxies] };
  if (required.allowedOrigins.length > 0) nextGateway['controlUi'] = { ...controlUi, allowedOrigins: [...origins, ...missingOrigins] };
  return { config: { ...config, gateway: nextGateway }, changed: true };
}

export interface PreparedConfig {
  /** OPENCLAW_CONFIG_PATH for the gateway. */
  readonly configPath: string;
  /** OPENCLAW_INCLUDE_ROOTS additions (overlay mode includes the user's file from its own folder). */
  readonly includeRoots: readonly string[];
  /**
   * created: no config existed; ours is the gateway's own file from now on (the Control UI edits it).
   * updated / unchanged: the user's JSON config, with the required entries added when missing.
   * overlay: the user's file is JSON5 or not ours to edit: a generated file `$include`s it and adds
   * the entries; the user's file is never written, and the gateway refuses config writes from the UI.
   */
  readonly mode: 'created' | 'updated' | 'unchanged' | 'overlay';
  readonly userConfigPath: string;
  /** created over an empty `<state dir>/openclaw.json` (an older version's interrupted first write). */
  readonly replacedEmptyFile?: true;
}

/**
 * Makes sure the gateway trusts only the loopback front door (and the configured proxies) for client
 * attribution, without losing or overwriting any of the user's config values.
 */
export async function prepareGatewayConfig(stateDir: string, userConfigPath: string | null, required: RequiredGatewayConfig): Promise<PreparedConfig> {
  const path = userConfigPath ?? join(stateDir, 'openclaw.json');
  const origin = userConfigPath === null ? 'the config in OPENCLAW_STATE_DIR' : 'OPENCLAW_CONFIG_PATH';
  let text: string | null;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      throw new UsageError(`${origin} ${path} is a loop of symbolic links: point the link at a regular file, or remove it so that the supervisor creates a new config`);
    }
    if (code !== 'ENOENT') throw error;
    const missing = await danglingTarget(path);
    if (missing !== null) {
      throw new UsageError(
        `${origin} ${path} is a symbolic link to ${missing}, which does not exist: create ${missing} (an empty config is {}), point the link at an existing file, or remove the link so that the supervisor creates a new config`,
      );
    }
    text = null;
  }
  const empty = text !== null && text.trim() === '';
  if (empty && !(await isLeftoverOfOurs(path, userConfigPath))) {
    // The gateway refuses an empty config (exit 78), and the file is not ours to fill in.
    throw new UsageError(`${origin} ${path} is empty: put your config in it (an empty config is {}), or remove it so that the supervisor creates one`);
  }
  if (text === null || empty) {
    const created = withRequiredKeys({}, required);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Created once: a file that appeared meanwhile is someone's, never replaced (EEXIST).
    await writeFileAtomic(path, `${JSON.stringify(created?.config ?? {}, null, 2)}\n`, { mode: 0o600, replace: empty });
    return { configPath: path, includeRoots: [], mode: 'created', userConfigPath: path, ...(empty ? { replacedEmptyFile: true } : {}) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // JSON5 with comments: not ours to rewrite
  }
  const merged = parsed === undefined ? null : withRequiredKeys(parsed, required);
  if (merged !== null && !merged.changed) return { configPath: path, includeRoots: [], mode: 'unchanged', userConfigPath: path };
  // A symlinked config is updated where it really lives: replacing the link with a regular file
  // would leave the user's real file unread from then on.
  const target = await realpath(path);
  if (merged !== null) {
    try {
      // Both next to the target (the real file, not the link), so that each rename replaces a
      // file within one file system; neither is ever written through a link planted there.
      await writeFileAtomic(`${target}.supervisor-backup`, text, { mode: 0o600, replace: true });
      await writeFileAtomic(target, `${JSON.stringify(merged.config, null, 2)}\n`, { mode: 0o600, replace: true });
      return { configPath: path, includeRoots: [], mode: 'updated', userConfigPath: path };
    } catch {
      // read-only (a mounted secret, an image layer): fall through to the overlay
    }
  }
  const overlayDir = join(stateDir, 'supervisor');
  await mkdir(overlayDir, { recursive: true, mode: 0o700 });
  const overlayPath = join(overlayDir, 'openclaw.overlay.json');
  // $include concatenates arrays (included first), so the user's entries stay and ours are added.
  const overlay = { $include: path, ...withRequiredKeys({}, required)?.config };
  await writeFileAtomic(overlayPath, `${JSON.stringify(overlay, null, 2)}\n`, { mode: 0o600, replace: true });
  // The gateway checks both the include's own path and its real path against the include roots.
  const includeRoots = [...new Set([dirname(path), dirname(target)])];
  return { configPath: overlayPath, includeRoots, mode: 'overlay', userConfigPath: path };
}

/**
 * An empty config the supervisor may fill: only its own default file (no OPENCLAW_CONFIG_PATH), a
 * regular file rather than a link to one, where an older version's first write was cut short by a
 * full disk. Whatever the user points the supervisor at stays theirs.
 */
async function isLeftoverOfOurs(path: string, userConfigPath: string | null): Promise<boolean> {
  if (userConfigPath !== null) return false;
  return (await lstat(path)).isFile();
}

/**
 * For a path that reads as missing: the missing end of its chain of symbolic links, or null when
 * the path is no symbolic link (simply absent, or under a missing folder).
 */
async function danglingTarget(path: string): Promise<string | null> {
  let current = path;
  for (let hop = 0; hop < 40; hop += 1) {
    let isLink: boolean;
    try {
      isLink = (await lstat(current)).isSymbolicLink();
    } catch {
      return current === path ? null : current;
    }
    if (!isLink) return null; // it exists after all (it appeared meanwhile)
    current = resolve(dirname(current), await readlink(current));
  }
  return null;
}
