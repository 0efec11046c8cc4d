import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenSource } from '../config/config.js';
import { StartFailure, UsageError } from '../errors.js';
import { describeWriteError, isOutOfSpace, writeFileAtomic } from '../fs/write-file-atomic.js';

export interface LoadedToken {
  readonly value: string;
  readonly origin: 'env' | 'file' | 'generated' | 'stored';
  /** Where it is kept, for the log (never the token itself). */
  readonly path: string | null;
  /** An empty file (an older version's interrupted write) was found at `path` and replaced by this new token. */
  readonly replacedEmptyFile?: true;
}

const MIN_TOKEN_LENGTH = 8;
export const GENERATED_TOKEN_FILE = 'gateway-token';

/** The token from the environment, a file, or generated once and kept (mode 0600) in the state dir. */
export async function loadToken(source: TokenSource, stateDir: string): Promise<LoadedToken> {
  switch (source.kind) {
    case 'env':
      return { value: checked(source.value, 'OPENCLAW_GATEWAY_TOKEN'), origin: 'env', path: null };
    case 'file':
      return { value: checked(await readTokenFile(source.path), `the token file ${source.path}`), origin: 'file', path: source.path };
    case 'generate':
      return generatedToken(stateDir);
  }
}

/**
 * The token in effect, read without creating anything (a CLI call or an audit must not generate
 * a secret): as loadToken for a token from the environment or a file; the generated one when it
 * exists, else null (`path` says where it will be).
 */
export async function peekToken(source: TokenSource, stateDir: string): Promise<{ value: string | null; origin: LoadedToken['origin']; path: string | null; notGenerated?: true }> {
  if (source.kind !== 'generate') return loadToken(source, stateDir);
  const path = join(stateDir, GENERATED_TOKEN_FILE);
  const value = await readFile(path, 'utf8').then(withoutNewline, () => null);
  if (value === null) return { value: null, origin: 'stored', path, notGenerated: true };
  return { value: value === '' ? null : value, origin: 'stored', path };
}

/** A token file's content: the token, without the one line end an editor adds. */
const withoutNewline = (text: string): string => text.replace(/\r?\n$/, '');

function checked(token: string, where: string): string {
  if (token === '') throw new UsageError(`${where} is empty: put a token in it (e.g. openssl rand -hex 32)`);
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new UsageError(`${where} holds a token that is too short or contains whitespace: use at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return token;
}

async function readTokenFile(path: string, label = 'OPENCLAW_GATEWAY_TOKEN_FILE'): Promise<string> {
  try {
    return withoutNewline(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${label}=${JSON.stringify(path)} cannot be read (${code}): make it a readable file that holds the token`);
  }
}

async function generatedToken(stateDir: string): Promise<LoadedToken> {
  const path = join(stateDir, GENERATED_TOKEN_FILE);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (isOutOfSpace(code)) throw outOfSpace(stateDir, code);
    throw notWritable(stateDir, code === 'EEXIST' ? 'ENOTDIR' : code); // EEXIST: the state dir is a file
  }
  const found = await leftoverEmptyFile(path);
  if (found === 'empty') await unlink(path).catch(() => undefined);
  const created = randomBytes(32).toString('base64url');
  try {
    // Created once, never replaced: two starts racing here both end up with the first one's token.
    await writeFileAtomic(path, `${created}\n`, { mode: 0o600, replace: false });
    return { value: created, origin: 'generated', path, ...(found === 'empty' ? { replacedEmptyFile: true } : {}) };
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== 'EEXIST') {
      if (isOutOfSpace(code)) throw outOfSpace(path, code);
      throw notWritable(stateDir, code);
    }
  }
  // Kept from an earlier start: the same token across restarts, and only its owner may read it.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return { value: checked(await readTokenFile(path, 'the stored token file'), `the stored token file ${path}`), origin: 'stored', path };
}

/** A full disk is no bad input: the same start works once space is freed (exit 1, not 2). */
function outOfSpace(path: string, code: string | undefined): StartFailure {
  return new StartFailure(`cannot store the generated token in ${path} (${describeWriteError(code)}); nothing was kept: free space on the state dir's file system and start again, or set OPENCLAW_GATEWAY_TOKEN`);
}

function notWritable(stateDir: string, code: string | undefined): UsageError {
  return new UsageError(`the state dir ${JSON.stringify(stateDir)} is not writable (${describeWriteError(code)}), so no token can be kept there: set OPENCLAW_GATEWAY_TOKEN or OPENCLAW_STATE_DIR`);
}

/**
 * 'empty': a regular file holding nothing but whitespace, what an older version left when the disk
 * filled up during its first write. Nobody can know an empty token, so it protects nothing and
 * is replaced. A link to an empty file is someone's setup: it is refused as before, never replaced.
 */
async function leftoverEmptyFile(path: string): Promise<'empty' | 'other'> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile() || stats.size > 4096) return 'other';
    return (await readFile(path, 'utf8')).trim() === '' ? 'empty' : 'other';
  } catch {
    return 'other'; // absent, or unreadable: the read after the write attempt says which
  }
}
