import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseStore, readRelease, storeDirOf } from '../../../src/releases/release-store.js';

/** The store's record and a release's package.json live in the state directory, which the gateway can write. */
describe('what the release store reads back', () => {
  const planted = (record: unknown): ReleaseStore => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ocs-store-'));
    mkdirSync(storeDirOf(stateDir), { recursive: true });
    writeFileSync(join(storeDirOf(stateDir), 'releases.json'), JSON.stringify(record));
    return new ReleaseStore(stateDir);
  };

  it('keeps versions', async () => {
    const store = planted({ lastGood: '2026.9.6', pending: { from: '2026.9.6', to: '2026.10.1-beta.1', backup: '/b', stateInArchive: 's' } });
    expect(await store.lastGood()).toBe('2026.9.6');
    expect(await store.pending()).toEqual({ from: '2026.9.6', to: '2026.10.1-beta.1', backup: '/b', stateInArchive: 's' });
  });

  it('drops what is not a version (it would reach a path, a record and an alert)', async () => {
    const store = planted({ lastGood: '../../etc', pending: { from: '2026.9.6', to: 'click https://evil.example now', backup: '/b', stateInArchive: 's' } });
    expect(await store.lastGood()).toBeNull();
    expect(await store.pending()).toBeNull();
  });

  it('takes a package for a release only with a version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-package-'));
    writeFileSync(join(dir, 'openclaw.mjs'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'openclaw', version: '$(rm -rf)' }));
    expect(readRelease(dir, 'store')).toBeNull();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'openclaw', version: '2026.9.6' }));
    expect(readRelease(dir, 'store')).toMatchObject({ version: '2026.9.6', source: 'store' });
  });
});
