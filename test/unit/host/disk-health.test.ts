import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK_OK, assessDisk, diskChanges, lowThresholdBytes, readDisk, type DiskChange, type DiskCondition } from '../../../src/host/disk-health.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('lowThresholdBytes: 5 % of the file system, at most 200 MiB', () => {
  it.each<[string, number, number]>([
    ['a 2 MiB tmpfs', 2 * MiB, Math.floor(2 * MiB * 0.05)],
    ['a 0.5 GB Railway volume', 500 * 1000 * 1000, 25 * 1000 * 1000],
    ['4 GiB: exactly the cap', 4000 * MiB, 200 * MiB],
    ['a 100 GiB disk: the cap', 100 * GiB, 200 * MiB],
  ])('%s', (_name, size, expected) => {
    expect(lowThresholdBytes(size)).toBe(expected);
  });
});

describe('assessDisk and diskChanges', () => {
  it.each<[string, number, number, boolean, DiskCondition]>([
    ['plenty free', 10 * GiB, 100 * GiB, true, { low: false, readOnly: false }],
    ['just under the cap', 199 * MiB, 100 * GiB, true, { low: true, readOnly: false }],
    ['a small volume at 6 %', 30 * 1000 * 1000, 500 * 1000 * 1000, true, { low: false, readOnly: false }],
    ['a small volume at 4 %', 20 * 1000 * 1000, 500 * 1000 * 1000, true, { low: true, readOnly: false }],
    ['read-only with space', 10 * GiB, 100 * GiB, false, { low: false, readOnly: true }],
  ])('%s', (_name, freeBytes, sizeBytes, writable, expected) => {
    expect(assessDisk({ freeBytes, sizeBytes, writable, writeError: writable ? null : 'EROFS' })).toEqual(expected);
  });

  it.each<[string, DiskCondition, DiskCondition, DiskChange[]]>([
    ['nothing', DISK_OK, DISK_OK, []],
    ['turns low', DISK_OK, { low: true, readOnly: false }, ['low']],
    ['stays low: no news', { low: true, readOnly: false }, { low: true, readOnly: false }, []],
    ['space back', { low: true, readOnly: false }, DISK_OK, ['space-recovered']],
    ['turns read-only and low at once', DISK_OK, { low: true, readOnly: true }, ['read-only', 'low']],
    ['writable again', { low: false, readOnly: true }, DISK_OK, ['writable-again']],
  ])('%s', (_name, previous, current, expected) => {
    expect(diskChanges(previous, current)).toEqual(expected);
  });
});

describe('readDisk', () => {
  it('reads free space and size, and leaves no probe file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-disk-'));
    const reading = await readDisk(dir);
    expect(reading).not.toBeNull();
    expect(reading!.sizeBytes).toBeGreaterThan(0);
    expect(reading!.freeBytes).toBeGreaterThan(0);
    expect(reading!.freeBytes).toBeLessThanOrEqual(reading!.sizeBytes);
    expect(reading).toMatchObject({ writable: true, writeError: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is null for a directory that is not there', async () => {
    expect(await readDisk(join(tmpdir(), 'ocs-no-such-dir-', String(process.pid)))).toBeNull();
  });
});
