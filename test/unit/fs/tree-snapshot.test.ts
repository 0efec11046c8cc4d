import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSnapshots, snapshotTree, type EntryState, type TreeSnapshot } from '../../../src/fs/tree-snapshot.js';

const file = (over: Partial<EntryState> = {}): EntryState => ({ kind: 'file', size: 10, mtimeMs: 1000, ino: 7, uid: 1000, mode: 0o600, ...over });
const dir = (over: Partial<EntryState> = {}): EntryState => ({ ...file(over), kind: 'dir', ...over });
const snap = (entries: Record<string, EntryState>, truncated = false): TreeSnapshot => ({ entries: new Map(Object.entries(entries)), truncated });

describe('diffSnapshots', () => {
  it.each<[string, TreeSnapshot, TreeSnapshot, ReturnType<typeof diffSnapshots>]>([
    ['nothing changed', snap({ '/s': dir(), '/s/a': file() }), snap({ '/s': dir(), '/s/a': file() }), []],
    ['a file created', snap({ '/s': dir() }), snap({ '/s': dir({ mtimeMs: 2000 }), '/s/a': file() }), [{ path: '/s/a', change: 'created' }]],
    ['a directory created', snap({ '/s': dir() }), snap({ '/s': dir(), '/s/state': dir() }), [{ path: '/s/state', change: 'created' }]],
    ['a file removed', snap({ '/s': dir(), '/s/a': file() }), snap({ '/s': dir() }), [{ path: '/s/a', change: 'removed' }]],
    ['a file rewritten in place (mtime)', snap({ '/a': file() }), snap({ '/a': file({ mtimeMs: 2000 }) }), [{ path: '/a', change: 'modified' }]],
    ['a file replaced by a rename (inode)', snap({ '/a': file() }), snap({ '/a': file({ ino: 8 }) }), [{ path: '/a', change: 'modified' }]],
    ['a file grown (size)', snap({ '/a': file() }), snap({ '/a': file({ size: 11 }) }), [{ path: '/a', change: 'modified' }]],
    ['a file given to root', snap({ '/a': file() }), snap({ '/a': file({ uid: 0 }) }), [{ path: '/a', change: 'modified', detail: 'owner 1000 → 0' }]],
    ['a directory tightened', snap({ '/s': dir({ mode: 0o755 }) }), snap({ '/s': dir({ mode: 0o700 }) }), [{ path: '/s', change: 'modified', detail: 'mode 0755 → 0700' }]],
    ['a directory whose entries changed is not listed itself', snap({ '/s': dir() }), snap({ '/s': dir({ mtimeMs: 5, size: 4096 }) }), []],
    ['a truncated walk claims no creation or removal', snap({ '/a': file() }, true), snap({ '/b': file() }, true), []],
    [
      'sorted by path',
      snap({}),
      snap({ '/s/z': file(), '/s/a': file(), '/s/m': file() }),
      [{ path: '/s/a', change: 'created' }, { path: '/s/m', change: 'created' }, { path: '/s/z', change: 'created' }],
    ],
  ])('%s', (_name, before, after, expected) => {
    expect(diffSnapshots(before, after)).toEqual(expected);
  });
});

describe('snapshotTree', () => {
  it('sees what was written, re-moded and removed under a tree, without following links', async () => {
    const root = mkdtempSync(join(tmpdir(), 'snapshot-'));
    const outside = mkdtempSync(join(tmpdir(), 'snapshot-outside-'));
    try {
      mkdirSync(join(root, 'state'));
      writeFileSync(join(root, 'keep'), 'k');
      writeFileSync(join(root, 'gone'), 'g');
      writeFileSync(join(outside, 'behind-link'), 'x');
      symlinkSync(outside, join(root, 'link'));
      const single = join(outside, 'config.json');
      const before = await snapshotTree([root], [single]);
      expect([...before.entries.keys()].sort()).toEqual([root, join(root, 'gone'), join(root, 'keep'), join(root, 'link'), join(root, 'state')]);

      writeFileSync(join(root, 'state', 'db'), 'new');
      chmodSync(join(root, 'state'), 0o700);
      rmSync(join(root, 'gone'));
      writeFileSync(single, '{}');
      writeFileSync(join(outside, 'behind-link'), 'changed behind the link');
      expect(diffSnapshots(before, await snapshotTree([root], [single]))).toEqual([
        { path: single, change: 'created' },
        { path: join(root, 'gone'), change: 'removed' },
        { path: join(root, 'state'), change: 'modified', detail: 'mode 0755 → 0700' },
        { path: join(root, 'state', 'db'), change: 'created' },
      ].sort((a, b) => (a.path < b.path ? -1 : 1)));
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('stops at the bound and says so', async () => {
    const root = mkdtempSync(join(tmpdir(), 'snapshot-'));
    try {
      for (let i = 0; i < 10; i++) writeFileSync(join(root, `f${i}`), '');
      const snapshot = await snapshotTree([root], [], 5);
      expect(snapshot.entries.size).toBe(5);
      expect(snapshot.truncated).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
