import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

/** What is compared of one entry: enough to see it created, removed, rewritten, re-owned or re-moded. */
export interface EntryState {
  readonly kind: 'file' | 'dir' | 'link' | 'other';
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly uid: number;
  readonly mode: number;
}

export interface TreeSnapshot {
  readonly entries: ReadonlyMap<string, EntryState>;
  /** More entries than the bound: the rest were not looked at. */
  readonly truncated: boolean;
}

export interface Change {
  readonly path: string;
  readonly change: 'created' | 'modified' | 'removed';
  /** For a changed owner or mode: "owner 1000 → 0", "mode 0755 → 0700". */
  readonly detail?: string;
}

/** A state dir holds sessions and media; a walk of this many entries takes well under a second. */
export const SNAPSHOT_LIMIT = 20_000;

/**
 * The entries under `trees` (recursively, links not followed) and the single `files`, as they are
 * now; what is missing is simply absent from the map.
 */
export async function snapshotTree(trees: readonly string[], files: readonly string[] = [], limit = SNAPSHOT_LIMIT): Promise<TreeSnapshot> {
  const entries = new Map<string, EntryState>();
  let truncated = false;
  const record = async (path: string): Promise<EntryState | null> => {
    if (entries.has(path)) return null;
    if (entries.size >= limit) {
      truncated = true;
      return null;
    }
    try {
      const stats = await lstat(path);
      const kind = stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'link' : 'other';
      const state: EntryState = { kind, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, uid: stats.uid, mode: stats.mode & 0o7777 };
      entries.set(path, state);
      return state;
    } catch {
      return null; // absent (or gone meanwhile)
    }
  };
  const walk = async (path: string): Promise<void> => {
    const state = await record(path);
    if (state?.kind !== 'dir') return;
    try {
      for await (const entry of await opendir(path)) {
        if (truncated) return;
        await walk(join(path, entry.name));
      }
    } catch {
      // unreadable or removed meanwhile: what was seen stays
    }
  };
  for (const tree of trees) await walk(tree);
  for (const file of files) await record(file);
  return { entries, truncated };
}

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

/**
 * What differs between two snapshots, sorted by path. A directory counts only when it appears,
 * disappears or changes owner or mode: its mtime moves with every entry, which is listed itself.
 */
export function diffSnapshots(before: TreeSnapshot, after: TreeSnapshot): Change[] {
  const changes: Change[] = [];
  for (const [path, now] of after.entries) {
    const was = before.entries.get(path);
    if (was === undefined) {
      if (!before.truncated) changes.push({ path, change: 'created' });
      continue;
    }
    const details = [
      ...(was.uid !== now.uid ? [`owner ${was.uid} → ${now.uid}`] : []),
      ...(was.mode !== now.mode ? [`mode ${octal(was.mode)} → ${octal(now.mode)}`] : []),
    ];
    const rewritten = now.kind !== 'dir' && (was.kind !== now.kind || was.ino !== now.ino || was.size !== now.size || was.mtimeMs !== now.mtimeMs);
    if (details.length > 0) changes.push({ path, change: 'modified', detail: details.join(', ') });
    else if (rewritten) changes.push({ path, change: 'modified' });
  }
  if (!after.truncated) {
    for (const path of before.entries.keys()) if (!after.entries.has(path)) changes.push({ path, change: 'removed' });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
