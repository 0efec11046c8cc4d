import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { MANAGED_NODE_BIN, withNodeFirst } from '../../src/preflight/locate-gateway.js';
import { openSession } from '../helpers/gateway-client.mjs';
import { createNetns, type Netns } from '../helpers/netns.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const OPENCLAW = join(ROOT, '.runtime', 'openclaw', 'node_modules', '.bin', 'openclaw');

function get(url: string): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error: Error & { code?: string }) => resolve({ error: error.code ?? error.message }));
  });
}

/** The incident's setup: the gateway run directly with the usual flags, inside the "container". */
function startNaiveGateway(ns: Netns, port: number): { child: ChildProcess; ready: Promise<void> } {
  const argv = ns.exec([OPENCLAW, 'gateway', 'run', '--allow-unconfigured', '--port', String(port), '--bind', 'loopback', '--auth', 'token']);
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: withNodeFirst(MANAGED_NODE_BIN, process.env['PATH']), HOME: mkdtempSync(join(tmpdir(), 'ocs-naive-')), OPENCLAW_STATE_DIR: mkdtempSync(join(tmpdir(), 'ocs-naive-state-')), OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('naive gateway not ready in 120 s')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/\[gateway\] ready$/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, ready };
}

/**
 * Reproduces the 502 incident and its fix. The network namespace is the "container" with its own
 * address; this test process is the platform edge, connecting to that address on $PORT.
 */
describe('platform edge → container', () => {
  let ns: Netns;
  let sup: RunningSupervisor | undefined;
  let naive: ChildProcess | undefined;

  afterAll(async () => {
    if (naive?.pid) {
      try {
        process.kill(-naive.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sup?.kill();
    ns?.destroy();
  });

  it('before: the gateway alone listens on loopback and the edge gets connection refused; after: the supervisor serves it', async () => {
    ns = createNetns();
    const naivePort = await freePort();
    const port = await freePort();
    const started = startNaiveGateway(ns, naivePort);
    naive = started.child;
    sup = await startSupervisor({ gateway: null, env: { PORT: String(port) }, wrap: (argv) => ns.exec(argv) });

    // Before: ready by its own account, unreachable for the edge.
    await started.ready;
    expect(await get(`http://${ns.nsAddress}:${naivePort}/healthz`)).toEqual({ error: 'ECONNREFUSED' });
    process.kill(-naive.pid!, 'SIGTERM');

    // After: /readyz turns 200 within Railway's health-check timeout (300 s; we allow 120 s).
    const deadline = Date.now() + 120_000;
    const statuses = new Set<number | string>();
    for (;;) {
      const res = await get(`http://${ns.nsAddress}:${port}/readyz`);
      statuses.add('status' in res ? res.status : res.error);
      if ('status' in res && res.status === 200) break;
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Only 503 (starting) and 200: the edge never saw a refused connection.
    expect([...statuses].every((status) => status === 503 || status === 200)).toBe(true);

    const session = await openSession(`ws://${ns.nsAddress}:${port}/`, TEST_TOKEN);
    expect(session.hello).toMatchObject({ ok: true, payload: { type: 'hello-ok' } });
    expect(await session.call('health')).toMatchObject({ ok: true });

    sup.signal('SIGTERM');
    const close = await session.closed;
    expect(close.code).toBe(1012);
    expect((await sup.exited).code).toBe(0);
  }, 240_000);
});
