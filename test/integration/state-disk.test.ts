import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The state directory on a 2 MiB tmpfs of the test's own (root, as the tests' namespaces need
 * anyway): filled past 95 %, then remounted read-only. Unmounted in the cleanup.
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function smallTmpfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  cleanups.push(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

describe('state disk health', () => {
  it('low space and a read-only state dir: a record on each change, the metrics and an alert; the gateway is left alone', async () => {
    const rx = await webhookReceiver();
    cleanups.push(() => rx.close());

    const stateDir = smallTmpfs();
    const metricsPort = await freePort();
    let s: RunningSupervisor | null = null;
    cleanups.push(async () => void (await s?.kill()));
    s = await startSupervisor({
      env: {
        OPENCLAW_STATE_DIR: stateDir,
        SUPERVISOR_DISK_CHECK_INTERVAL_MS: '100',
        SUPERVISOR_METRICS_PORT: String(metricsPort),
        SUPERVISOR_METRICS_HOST: '127.0.0.1',
        SUPERVISOR_ALERT_WEBHOOK: rx.url,
      },
    });
    await s.waitFor('gateway.ready');
    expect(s.events('supervisor.state_disk_low')).toEqual([]);
    const scrape = async (): Promise<string> => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(await scrape()).toMatch(/^openclaw_supervisor_state_disk_writable 1$/m);

    // 5 % of 2 MiB is ~102 KiB: leave ~40 KiB.
    writeFileSync(join(stateDir, 'filler'), Buffer.alloc(2 * 1024 * 1024 - 40 * 1024 - 16 * 1024));
    const low = await s.waitFor('supervisor.state_disk_low', undefined, 10_000);
    expect(low).toMatchObject({ level: 'warn', stateDir, sizeBytes: 2 * 1024 * 1024, thresholdBytes: Math.floor(2 * 1024 * 1024 * 0.05) });
    expect(low['freeBytes'] as number).toBeLessThan(low['thresholdBytes'] as number);
    await s.waitFor('ops.alert_sent', (r) => r['kind'] === 'disk_low');
    expect(rx.bodies[0]).toMatchObject({ kind: 'disk_low', severity: 'warning', facts: { sizeBytes: 2 * 1024 * 1024 } });
    const free = Number(/^openclaw_supervisor_state_disk_free_bytes (\d+)$/m.exec(await scrape())?.[1]);
    expect(free).toBeLessThan(102 * 1024);

    rmSync(join(stateDir, 'filler'));
    await s.waitFor('supervisor.state_disk_space_recovered', undefined, 10_000);

    execFileSync('mount', ['-o', 'remount,ro', stateDir]);
    const readOnly = await s.waitFor('supervisor.state_disk_read_only', undefined, 10_000);
    expect(readOnly).toMatchObject({ level: 'error', code: 'EROFS' });
    await s.waitFor('ops.alert_sent', (r) => r['kind'] === 'disk_read_only');
    expect(await scrape()).toMatch(/^openclaw_supervisor_state_disk_writable 0$/m);
    execFileSync('mount', ['-o', 'remount,rw', stateDir]);
    await s.waitFor('supervisor.state_disk_writable_again', undefined, 10_000);

    // Records on change only: one of each, however many polls ran.
    expect(s.events('supervisor.state_disk_low')).toHaveLength(1);
    expect(s.events('supervisor.state_disk_read_only')).toHaveLength(1);
    expect(rx.bodies.map((b) => b['kind'])).toEqual(['disk_low', 'disk_read_only']);
    expect(s.events('gateway.exited')).toEqual([]);
    expect((await fetch(s.url('/readyz'))).status).toBe(200);
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
