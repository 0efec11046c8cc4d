import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SPOOL_FILE } from '../../src/ops/alert-spool.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A receiver on loopback: `hang` accepts each POST and never answers; otherwise 200 and the body kept. */
async function receiver(hang: boolean): Promise<{ url: string; bodies: Array<Record<string, unknown>>; requests: () => number }> {
  const bodies: Array<Record<string, unknown>> = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      if (hang) return;
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/sEcReTpath`, bodies, requests: () => requests };
}

describe('alerts not lost at exit', () => {
  it('an alert the exit\'s 2 s bound abandons is spooled in the state dir and delivered at the next start, then removed', async () => {
    const hanging = await receiver(true);
    let first: RunningSupervisor | null = null;
    cleanups.push(async () => void (await first?.kill()));
    // The gateway refuses its config (exit 78): the refused alert, then the supervisor's exit 78.
    first = await startSupervisor({ env: { FAKE_EXIT_CODE: '78', SUPERVISOR_ALERT_WEBHOOK: hanging.url } });
    expect((await first.exited).code).toBe(78);
    expect(hanging.requests()).toBeGreaterThanOrEqual(1);
    expect(first.events('ops.alerts_abandoned')).toHaveLength(1);
    expect(first.events('ops.alerts_spooled')).toEqual([expect.objectContaining({ alerts: 1, kinds: ['refused'] })]);
    const spoolPath = join(first.stateDir, SPOOL_FILE);
    const spooled = readFileSync(spoolPath, 'utf8');
    // The alert, not the webhook or its secret path.
    expect(spooled).toContain('"refused"');
    expect(spooled).not.toContain('sEcReTpath');
    expect(spooled).not.toContain('127.0.0.1');

    const working = await receiver(false);
    let second: RunningSupervisor | null = null;
    cleanups.push(async () => void (await second?.kill()));
    second = await startSupervisor({ env: { OPENCLAW_STATE_DIR: first.stateDir, SUPERVISOR_ALERT_WEBHOOK: working.url } });
    await second.waitFor('ops.alert_spool_sent');
    await second.waitFor('ops.alert_sent', (r) => r['kind'] === 'refused');
    expect(working.bodies).toHaveLength(1);
    expect(working.bodies[0]).toMatchObject({ kind: 'refused', severity: 'critical', late: true, facts: { gatewayExitCode: 78, exitCode: 78 } });
    expect(String(working.bodies[0]!['text'])).toContain('from the previous run');
    expect(existsSync(spoolPath)).toBe(false);
    await second.waitFor('gateway.ready');
    second.signal('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(existsSync(spoolPath)).toBe(false);
  });
});
