import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWriteError, writeFileAtomic, type AtomicWriteFs, type WritableHandle } from '../../../src/fs/write-file-atomic.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected`), { code });
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
/** Random names handed out in order, so that a test can plant something at the next one. */
const names = (...list: string[]): Pick<AtomicWriteFs, 'randomName'> => ({ randomName: () => list.shift() ?? 'fallback' });
const tempPath = (name: string, random: string): string => join(dir, `.${name}.${random}.supervisor-tmp`);

/** The real open, with the file handle's `method` failing with `code` (only for files, not the directory sync). */
function failing(method: 'writeFile' | 'sync' | 'chmod' | 'close', code: string): Pick<AtomicWriteFs, 'open'> {
  return {
    open: async (path, flags, mode) => {
      const handle = await open(path, flags, mode);
      if ((flags & constants.O_DIRECTORY) !== 0) return handle;
      const wrapped: WritableHandle = {
        writeFile: (data) => handle.writeFile(data),
        chmod: (m) => handle.chmod(m),
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
      if (method === 'close') {
        wrapped.close = async () => {
          await handle.close();
          throw errno(code);
        };
      } else if (method === 'writeFile') {
        // Half the data reaches the disk before the device is full: what a real ENOSPC looks like.
        wrapped.writeFile = async (data) => {
          await handle.writeFile(typeof data === 'string' ? data.slice(0, data.length / 2) : data.subarray(0, data.length / 2));
          throw errno(code);
        };
      } else {
        wrapped[method] = async () => {
          throw errno(code);
        };
      }
      return wrapped;
    },
  };
}

describe('writeFileAtomic', () => {
  it.each([true, false])('writes the whole content with the exact mode, whatever the umask (replace %s)', async (replace) => {
    const path = join(dir, 'file');
    const previous = process.umask(0o077);
    try {
      await writeFileAtomic(path, 'content\n', { replace, mode: 0o640 });
    } finally {
      process.umask(previous);
    }
    expect(await readFile(path, 'utf8')).toBe('content\n');
    expect(await modeOf(path)).toBe(0o640);
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('replaces an existing file when asked to', async () => {
    const path = join(dir, 'file');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new', { replace: true });
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await modeOf(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('never replaces an existing file when creating: EEXIST, the file as it was, no temporary file left', async () => {
    const path = join(dir, 'file');
    await writeFile(path, 'first');
    await expect(writeFileAtomic(path, 'second', { replace: false })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('never creates through a symbolic link at the target, not even a dangling one', async () => {
    const path = join(dir, 'file');
    const elsewhere = join(dir, 'elsewhere');
    await symlink(elsewhere, path);
    await expect(writeFileAtomic(path, 'secret', { replace: false })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(lstat(elsewhere)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readlink(path)).toBe(elsewhere);
  });

  it.each([true, false])('a symbolic link planted at the temporary name is neither written through nor removed (replace %s)', async (replace) => {
    const path = join(dir, 'openclaw.json');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'victim content');
    const planted = tempPath('openclaw.json', 'guessed');
    await symlink(victim, planted);
    await writeFileAtomic(path, '{"merged":true}', { replace, fs: names('guessed', 'other') });
    expect(await readFile(victim, 'utf8')).toBe('victim content');
    expect(await readlink(planted)).toBe(victim);
    expect(await readFile(path, 'utf8')).toBe('{"merged":true}');
    expect((await readdir(dir)).sort()).toEqual(['.openclaw.json.guessed.supervisor-tmp', 'openclaw.json', 'victim']);
  });

  it('a dangling symbolic link planted at the temporary name does not make the write create its target', async () => {
    const path = join(dir, 'gateway-token');
    const target = join(dir, 'created-by-the-link');
    await symlink(target, tempPath('gateway-token', 'guessed'));
    await writeFileAtomic(path, 'token\n', { replace: false, fs: names('guessed', 'other') });
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(path, 'utf8')).toBe('token\n');
  });

  it('gives up after a few names that are all taken, writing nothing through them', async () => {
    const path = join(dir, 'file');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'v');
    for (const name of ['a', 'b', 'c', 'd', 'e']) await symlink(victim, tempPath('file', name));
    await expect(writeFileAtomic(path, 'x', { replace: true, fs: names('a', 'b', 'c', 'd', 'e') })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(victim, 'utf8')).toBe('v');
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  describe('a failure before the file is in place leaves the target as it was and no temporary file', () => {
    it.each<['writeFile' | 'sync' | 'chmod' | 'close', string]>([
      ['writeFile', 'ENOSPC'],
      ['writeFile', 'EDQUOT'],
      ['sync', 'EIO'],
      ['chmod', 'EPERM'],
      ['close', 'EIO'],
    ])('%s fails with %s', async (method, code) => {
      const absent = join(dir, 'absent');
      const present = join(dir, 'present');
      await writeFile(present, 'old content');
      await expect(writeFileAtomic(absent, 'new content', { replace: false, fs: failing(method, code) })).rejects.toMatchObject({ code });
      await expect(writeFileAtomic(present, 'new content', { replace: true, fs: failing(method, code) })).rejects.toMatchObject({ code });
      expect(await readdir(dir)).toEqual(['present']);
      expect(await readFile(present, 'utf8')).toBe('old content');
    });

    it.each<[boolean, 'rename' | 'link']>([
      [true, 'rename'],
      [false, 'link'],
    ])('putting it in place fails (replace %s: %s)', async (replace, call) => {
      const path = join(dir, 'file');
      await expect(writeFileAtomic(path, 'x', { replace, fs: { [call]: async () => Promise.reject(errno('EIO')) } })).rejects.toMatchObject({ code: 'EIO' });
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('creates without hard links (vfat, some FUSE mounts): checks, then renames, still never replacing', async () => {
    const path = join(dir, 'file');
    const noLinks = { link: async () => Promise.reject(errno('EPERM')) };
    await writeFileAtomic(path, 'first', { replace: false, fs: noLinks });
    await expect(writeFileAtomic(path, 'second', { replace: false, fs: noLinks })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('syncs the directory after the rename, and tolerates a file system that cannot', async () => {
    const opened: string[] = [];
    const path = join(dir, 'file');
    await writeFileAtomic(path, 'x', {
      replace: true,
      fs: {
        open: async (p, flags, mode) => {
          opened.push((flags & constants.O_DIRECTORY) !== 0 ? `dir:${p}` : 'file');
          const handle = await open(p, flags, mode);
          if ((flags & constants.O_DIRECTORY) === 0) return handle;
          return { writeFile: async () => {}, chmod: async () => {}, sync: async () => Promise.reject(errno('EINVAL')), close: () => handle.close() };
        },
      },
    });
    expect(opened).toEqual(['file', `dir:${dir}`]);
    expect(await readFile(path, 'utf8')).toBe('x');
  });
});

describe('describeWriteError', () => {
  it.each<[string | undefined, string]>([
    ['ENOSPC', 'ENOSPC: no space left on the device'],
    ['EDQUOT', 'EDQUOT: disk quota exceeded'],
    ['EACCES', 'EACCES'],
    [undefined, 'error'],
  ])('%s', (code, text) => {
    expect(describeWriteError(code)).toBe(text);
  });
});
