import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENERATED_TOKEN_FILE, loadToken, peekToken } from '../../../src/gateway-config/token.js';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import { asyncUsageErrorOf, expectMentions } from '../usage-error-assert.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'load-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const stateDir = (): string => join(dir, 'state');

describe('loadToken: from the environment', () => {
  it('returns the value with origin env and no path', async () => {
    expect(await loadToken({ kind: 'env', value: 'abcdefgh' }, stateDir())).toEqual({ value: 'abcdefgh', origin: 'env', path: null });
  });

  it('does not touch the state dir', async () => {
    await loadToken({ kind: 'env', value: 'abcdefgh12345' }, stateDir());
    await expect(stat(stateDir())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each<[string, string, string[]]>([
    ['empty', '', ['OPENCLAW_GATEWAY_TOKEN is empty', 'openssl rand']],
    ['7 characters', 'Qz7xKp2', ['OPENCLAW_GATEWAY_TOKEN', 'at least 8 characters']],
    ['an inner space', 'Qz7xKp2 Wm9v', ['OPENCLAW_GATEWAY_TOKEN', 'without spaces']],
    ['a tab', 'Qz7xKp2\tWm9v', ['OPENCLAW_GATEWAY_TOKEN', 'whitespace']],
    ['a newline', 'Qz7xKp2Wm9v\nLp3', ['OPENCLAW_GATEWAY_TOKEN', 'whitespace']],
  ])('rejects a token with %s, without echoing it', async (_name, value, parts) => {
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'env', value }, stateDir()));
    expectMentions(message, parts);
    if (value !== '') expect(message).not.toContain(value);
  });

  it.each(['Qz7xKp2', ' Qz7x Kp2Wm9v ', 'Qz7x\tKp2Wm9v'])(
    'from resolveConfig to loadToken, a malformed token (%j) is never echoed',
    async (raw) => {
      const invocation = resolveConfig({ OPENCLAW_GATEWAY_TOKEN: raw }, [], dir);
      if (invocation.command !== 'run') throw new Error('expected run');
      const message = await asyncUsageErrorOf(() => loadToken(invocation.config.token, invocation.config.stateDir));
      expect(message).toContain('OPENCLAW_GATEWAY_TOKEN');
      for (const piece of raw.trim().split(/\s+/)) expect(message).not.toContain(piece);
    },
  );
});

describe('loadToken: from a file', () => {
  it.each<[string, string, string]>([
    ['as is', 'file-token-1234', 'file-token-1234'],
    ['with the trailing newline trimmed', 'file-token-1234\n', 'file-token-1234'],
    ['with a trailing CRLF trimmed', 'file-token-1234\r\n', 'file-token-1234'],
  ])('reads the token %s', async (_name, content, value) => {
    const path = join(dir, 'token');
    await writeFile(path, content);
    expect(await loadToken({ kind: 'file', path }, stateDir())).toEqual({ value, origin: 'file', path });
  });

  it.each<[string, (path: string) => Promise<void>, string]>([
    ['missing', async () => {}, 'ENOENT'],
    ['a directory', (path) => mkdir(path), 'EISDIR'],
  ])('rejects a file that is %s with a UsageError naming the path and the reason', async (_name, setUp, code) => {
    const path = join(dir, 'no-such-token');
    await setUp(path);
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'file', path }, stateDir()));
    expectMentions(message, [`OPENCLAW_GATEWAY_TOKEN_FILE=${JSON.stringify(path)}`, 'cannot be read', code, 'readable file']);
  });

  it.each<[string, string, string]>([
    ['empty', '', 'is empty'],
    ['a bare newline', '\n', 'is empty'],
    ['too short', 'Zx81kQ\n', 'at least 8 characters'],
    ['spaces', 'Zx81kQ Pw03Lm\n', 'without spaces'],
    ['two lines', 'Zx81kQPw03Lm\nYv52Nt\n', 'whitespace'],
  ])('rejects a file that is %s, naming the file and not echoing its content', async (_name, content, reason) => {
    const path = join(dir, 'token');
    await writeFile(path, content);
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'file', path }, stateDir()));
    expectMentions(message, [`the token file ${path}`, reason]);
    for (const piece of content.split(/\s+/).filter((p) => p !== '')) expect(message).not.toContain(piece);
  });
});

describe('loadToken: generated and kept in the state dir', () => {
  it('creates the state dir (0700) and a 0600 file holding a fresh token', async () => {
    const loaded = await loadToken({ kind: 'generate' }, stateDir());
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    expect(loaded.origin).toBe('generated');
    expect(loaded.path).toBe(path);
    expect(loaded.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(await readFile(path, 'utf8')).toBe(`${loaded.value}\n`);
    expect(await modeOf(path)).toBe(0o600);
    expect(await modeOf(stateDir())).toBe(0o700);
  });

  it('creates missing parents of the state dir', async () => {
    const nested = join(dir, 'a', 'b', 'c');
    expect((await loadToken({ kind: 'generate' }, nested)).path).toBe(join(nested, GENERATED_TOKEN_FILE));
  });

  it('reuses the stored token on the next call', async () => {
    const first = await loadToken({ kind: 'generate' }, stateDir());
    const second = await loadToken({ kind: 'generate' }, stateDir());
    expect(second).toEqual({ value: first.value, origin: 'stored', path: first.path });
  });

  it('generates different tokens for different state dirs', async () => {
    const a = await loadToken({ kind: 'generate' }, join(dir, 'a'));
    const b = await loadToken({ kind: 'generate' }, join(dir, 'b'));
    expect(a.value).not.toBe(b.value);
  });

  it.each(['644', '640', '604', '666', '777'])('tightens a stored file with mode %s to 0600 and reads it', async (octal) => {
    const mode = parseInt(octal, 8);
    await mkdir(stateDir(), { recursive: true });
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    await writeFile(path, 'stored-token-abcdef\n');
    await chmod(path, mode);
    expect(await loadToken({ kind: 'generate' }, stateDir())).toEqual({ value: 'stored-token-abcdef', origin: 'stored', path });
    expect(await modeOf(path)).toBe(0o600);
  });

  it.each(['400', '600', '700'])('leaves a stored file with the private mode %s as it is', async (octal) => {
    const mode = parseInt(octal, 8);
    await mkdir(stateDir(), { recursive: true });
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    await writeFile(path, 'stored-token-abcdef\n');
    await chmod(path, mode);
    expect((await loadToken({ kind: 'generate' }, stateDir())).value).toBe('stored-token-abcdef');
    expect(await modeOf(path)).toBe(mode);
  });

  it.each([
    ['empty', ''],
    ['a bare newline', '\n'],
    ['whitespace only', '  \n\t\n'],
  ])('replaces a stored file that is %s (an older version cut short by a full disk) with a new token, and says so', async (_name, content) => {
    await mkdir(stateDir(), { recursive: true });
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    await writeFile(path, content, { mode: 0o644 });
    const loaded = await loadToken({ kind: 'generate' }, stateDir());
    expect(loaded).toMatchObject({ origin: 'generated', path, replacedEmptyFile: true });
    expect(loaded.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await readFile(path, 'utf8')).toBe(`${loaded.value}\n`);
    expect(await modeOf(path)).toBe(0o600);
    expect(await readdir(stateDir())).toEqual([GENERATED_TOKEN_FILE]);
    expect(await loadToken({ kind: 'generate' }, stateDir())).toEqual({ value: loaded.value, origin: 'stored', path });
  });

  it('never replaces a symbolic link to an empty file (someone\'s setup): refused, link and file as they were', async () => {
    await mkdir(stateDir(), { recursive: true });
    const target = join(dir, 'mounted-token');
    await writeFile(target, '');
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    await symlink(target, path);
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'generate' }, stateDir()));
    expectMentions(message, [`the stored token file ${path}`, 'is empty']);
    expect(await readlink(path)).toBe(target);
    expect(await readFile(target, 'utf8')).toBe('');
  });

  it.each<[string, string, string]>([
    ['malformed', 'Rk2 Lq9Xw\n', 'without spaces'],
  ])('rejects a stored file that is %s, naming it and not echoing its content', async (_name, content, reason) => {
    await mkdir(stateDir(), { recursive: true });
    const path = join(stateDir(), GENERATED_TOKEN_FILE);
    await writeFile(path, content, { mode: 0o600 });
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'generate' }, stateDir()));
    expectMentions(message, [`the stored token file ${path}`, reason]);
    for (const piece of content.split(/\s+/).filter((p) => p !== '')) expect(message).not.toContain(piece);
  });

  it('rejects a state dir below a regular file, naming the dir and the way out', async () => {
    const blocker = join(dir, 'plain-file');
    await writeFile(blocker, 'x');
    const state = join(blocker, 'state');
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'generate' }, state));
    expectMentions(message, [JSON.stringify(state), 'not writable', 'ENOTDIR', 'OPENCLAW_GATEWAY_TOKEN', 'OPENCLAW_STATE_DIR']);
  });

  it('rejects a state dir that is itself a regular file with a UsageError, not a raw error', async () => {
    const blocker = join(dir, 'plain-file');
    await writeFile(blocker, 'x');
    const message = await asyncUsageErrorOf(() => loadToken({ kind: 'generate' }, blocker));
    expectMentions(message, [JSON.stringify(blocker), 'ENOTDIR', 'OPENCLAW_GATEWAY_TOKEN', 'OPENCLAW_STATE_DIR']);
  });
});

describe('peekToken: the token in effect, read without creating one (the CLI, audit)', () => {
  it('a generated token not there yet: null, nothing created', async () => {
    const stateDir = join(dir, 'state');
    expect(await peekToken({ kind: 'generate' }, stateDir)).toEqual({ value: null, origin: 'stored', path: join(stateDir, GENERATED_TOKEN_FILE), notGenerated: true });
    await expect(stat(stateDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the generated token, without its line end; an empty file is no token', async () => {
    const path = join(dir, GENERATED_TOKEN_FILE);
    await writeFile(path, 'generated-token-value\r\n');
    expect(await peekToken({ kind: 'generate' }, dir)).toEqual({ value: 'generated-token-value', origin: 'stored', path });
    await writeFile(path, '');
    expect(await peekToken({ kind: 'generate' }, dir)).toEqual({ value: null, origin: 'stored', path });
  });

  it('from the environment or a file: what loadToken says', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'file-token-value\n');
    expect(await peekToken({ kind: 'file', path: file }, dir)).toEqual({ value: 'file-token-value', origin: 'file', path: file });
    expect(await peekToken({ kind: 'env', value: 'env-token-value' }, dir)).toEqual({ value: 'env-token-value', origin: 'env', path: null });
  });
});
