import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenSource } from '../config/config.js';
import { UsageError } from '../config/usage-error.js';

export interface LoadedToken {
  readonly value: string;
  readonly origin: 'env' | 'file' | 'generated' | 'stored';
  /** Where it is kept, for the log (never the token itself). */
  readonly path: string | null;
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

function checked(token: string, where: string): string {
  if (token === '') throw new UsageError(`${where} is empty: put a token in it (e.g. openssl rand -hex 32)`);
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new UsageError(`${where} holds a token that is too short or contains whitespace: use at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return token;
}

async function readTokenFile(path: string, label = 'OPENCLAW_GATEWAY_TOKEN_FILE'): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${label}=${JSON.stringify(path)} cannot be read (${code}): make it a readable file that holds the token`);
  }
}

async function generatedToken(stateDir: string): Promise<LoadedToken> {
  const path = join(stateDir, GENERATED_TOKEN_FILE);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const created = randomBytes(32).toString('base64url');
    await writeFile(path, `${created}\n`, { mode: 0o600, flag: 'wx' });
    return { value: created, origin: 'generated', path };
  } catch (error) {
    const { code: errorCode, syscall } = error as NodeJS.ErrnoException;
    // EEXIST from mkdir (not from writeFile's wx) means the state dir is a file, not a kept token.
    if (errorCode !== 'EEXIST' || syscall === 'mkdir') {
      const code = errorCode === 'EEXIST' ? 'ENOTDIR' : (errorCode ?? 'error');
      throw new UsageError(`the state dir ${JSON.stringify(stateDir)} is not writable (${code}), so no token can be kept there: set OPENCLAW_GATEWAY_TOKEN or OPENCLAW_STATE_DIR`);
    }
  }
  // Kept from an earlier start: the same token across restarts, and only its owner may read it.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return { value: checked(await readTokenFile(path, 'the stored token file'), `the stored token file ${path}`), origin: 'stored', path };
}
