import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('channel health from the gateway\'s own /readyz', () => {
  it('a failing channel is a record, a metric and an alert, with no restart and the supervisor\'s /readyz still 200; its recovery too', async () => {
    const rx = await webhookReceiver();
    cleanups.push(() => rx.close());
    const readyzFile = join(mkdtempSync(join(tmpdir(), 'ocs-readyz-')), 'failing.json');
    const metricsPort = await freePort();
    let s: RunningSupervisor | null = null;
    cleanups.push(async () => void (await s?.kill()));
    s = await startSupervisor({
      env: {
        FAKE_READYZ_FILE: readyzFile,
        SUPERVISOR_CHANNEL_HEALTH_INTERVAL_MS: '100',
        SUPERVISOR_METRICS_PORT: String(metricsPort),
        SUPERVISOR_METRICS_HOST: '127.0.0.1',
        SUPERVISOR_ALERT_WEBHOOK: rx.url,
      },
    });
    await s.waitFor('gateway.ready');

    writeFileSync(readyzFile, JSON.stringify(['telegram']));
    const unhealthy = await s.waitFor('gateway.channel_unhealthy');
    expect(unhealthy).toMatchObject({ level: 'warn', channel: 'telegram', failing: ['telegram'] });
    await s.waitFor('ops.alert_sent', (r) => r['kind'] === 'channel_unhealthy');
    expect(rx.bodies).toHaveLength(1);
    expect(rx.bodies[0]).toMatchObject({ kind: 'channel_unhealthy', severity: 'warning', facts: { channel: 'telegram' }, gateway: { state: 'ready' } });
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/^openclaw_supervisor_gateway_channel_failing\{channel="telegram"\} 1$/m);
    // Reported, never acted on: the platform must not restart the container, the supervisor not the gateway.
    const readyz = await fetch(s.url('/readyz'));
    expect(readyz.status).toBe(200);

    writeFileSync(readyzFile, JSON.stringify([]));
    const recovered = await s.waitFor('gateway.channel_recovered');
    expect(recovered).toMatchObject({ level: 'info', channel: 'telegram', failing: [] });
    const after = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(after).toMatch(/^openclaw_supervisor_gateway_channel_failing\{channel="telegram"\} 0$/m);

    expect(s.events('gateway.exited')).toEqual([]);
    expect(s.events('gateway.spawned')).toHaveLength(1);
    expect(s.events('gateway.channel_unhealthy')).toHaveLength(1);
    expect(rx.bodies.map((b) => b['kind'])).toEqual(['channel_unhealthy']);
    s.signal('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
