import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The part of an open file the writer uses (node's FileHandle; tests wrap it to inject faults). */
export interface WritableHandle {
  writeFile(data: string | Uint8Array): Promise<void>;
  chmod(mode: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file system calls the writer makes, injectable so that tests can make any of them fail. */
export interface AtomicWriteFs {
  open(path: string, flags: number, mode?: number): Promise<WritableHandle>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  lstat(path: string): Promise<unknown>;
  unlink(path: string): Promise<void>;
  /** The random part of a temporary file's name. */
  randomName(): string;
}

const NODE_FS: AtomicWriteFs = { open, rename, link, lstat, unlink, randomName: () => randomBytes(12).toString('hex') };

export interface AtomicWriteOptions {
  /** The file's mode, exactly (not reduced by the umask). Default 0600: everything we write may hold a secret. */
  readonly mode?: number;
  /**
   * true: replace whatever is at `path` (rename). false: create it only if nothing is there
   * (hard link, which never replaces): an existing file, or a symbolic link even to nothing,
   * makes the write fail with EEXIST and stay unwritten.
   */
  readonly replace: boolean;
  readonly fs?: Partial<AtomicWriteFs>;
}

/**
 * The temporary file is created exclusively, never through a link: O_EXCL fails on anything that
 * exists at the name, a symbolic link included, and O_NOFOLLOW says so twice.
 */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** A name taken by someone else is tried again with another one, a few times at most. */
const TEMP_ATTEMPTS = 5;
/** Some file systems cannot fsync a directory; the rename is as durable as they make it. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF', 'EPERM']);
/** File systems without hard links (vfat, some FUSE mounts) answer link() with one of these. */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Writes `data` to `path` so that `path` is always either its old self (or absent) or the whole
 * new content, never a part of it, whatever fails (a full disk, a crash, a power cut): a temporary
 * file next to it (same file system, so the rename is atomic) is written, synced, then renamed or
 * linked into place, and the directory synced. On any failure before that the temporary file is
 * removed and the error thrown as it came (its `code` tells ENOSPC from EACCES).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const fs: AtomicWriteFs = { ...NODE_FS, ...options.fs };
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const { temporary, handle } = await createTemporary(fs, dir, basename(path), mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace) await fs.rename(temporary, path);
    else await linkNoReplace(fs, temporary, path);
  } catch (error) {
    await fs.unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(fs, dir);
}

async function createTemporary(fs: AtomicWriteFs, dir: string, name: string, mode: number): Promise<{ temporary: string; handle: WritableHandle }> {
  for (let attempt = 1; ; attempt += 1) {
    const temporary = join(dir, `.${name}.${fs.randomName()}.supervisor-tmp`);
    try {
      return { temporary, handle: await fs.open(temporary, TEMP_FLAGS, mode) };
    } catch (error) {
      // Someone else's file or link at this name: never written through, never removed; another name.
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'EEXIST' && code !== 'ELOOP') || attempt >= TEMP_ATTEMPTS) throw error;
    }
  }
}

async function linkNoReplace(fs: AtomicWriteFs, temporary: string, path: string): Promise<void> {
  try {
    await fs.link(temporary, path);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // No hard links here: check, then rename. Only a writer racing in the gap between the two
    // could be replaced, and it would have written a whole file too.
    if (await exists(fs, path)) throw Object.assign(new Error(`EEXIST: file already exists, link '${temporary}' -> '${path}'`), { code: 'EEXIST', path });
    await fs.rename(temporary, path);
    return;
  }
  await fs.unlink(temporary).catch(() => undefined); // the content lives on at `path`
}

async function exists(fs: AtomicWriteFs, path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The rename itself is an entry of the directory: without this, a power cut can still lose it. */
async function syncDirectory(fs: AtomicWriteFs, dir: string): Promise<void> {
  let handle: WritableHandle;
  try {
    handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    if (DIR_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '') || (error as NodeJS.ErrnoException).code === 'EACCES') return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!DIR_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

const STORAGE_CODES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
};

/** "ENOSPC: no space left on the device" for the codes a person may not know by heart; the code alone otherwise. */
export function describeWriteError(code: string | undefined): string {
  const known = code === undefined ? undefined : STORAGE_CODES[code];
  return known === undefined ? (code ?? 'error') : `${code}: ${known}`;
}

/** A full disk or quota: the start can succeed once space is freed, unlike a wrong path or mode. */
export const isOutOfSpace = (code: string | undefined): boolean => code === 'ENOSPC' || code === 'EDQUOT';
