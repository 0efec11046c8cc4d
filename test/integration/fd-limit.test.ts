import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionCap, FD_RESERVE } from '../../src/host/fd-limit.js';
import { pollUntil } from '../helpers/proc.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

// Issue 19: at its descriptor limit (idle connections held), a gateway crash made the respawn fail
// and the supervisor exit 1 ("subprocess.stdio is not iterable"). Now the front door keeps a reserve.
const LIMIT = 256;
const HELD = 300;

type Held = { socket: net.Socket; connectedAt: number; closedAt: number | null };

function hold(port: number): Promise<Held> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const held: Held = { socket, connectedAt: 0, closedAt: null };
    socket.on('error', () => undefined);
    socket.once('close', () => (held.closedAt = Date.now()));
    socket.once('connect', () => {
      held.connectedAt = Date.now();
      resolve(held);
    });
    // Not accepted at all (the backlog is full): still an answer within the bound below.
    setTimeout(() => resolve(held), 5_000).unref();
  });
}

describe('descriptor limit: the supervisor keeps a reserve for the gateway', () => {
  let sup: RunningSupervisor | undefined;
  let sockets: Held[] = [];
  afterEach(async () => {
    for (const held of sockets) held.socket.destroy();
    sockets = [];
    await sup?.kill();
  });

  it('caps connections below RLIMIT_NOFILE, closes the excess at once, and a crashed gateway comes back', async () => {
    sup = await startSupervisor({ wrap: (argv) => ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--', ...argv] });
    const first = await sup.waitFor('gateway.ready', undefined, 20_000);
    const cap = connectionCap(LIMIT)!;
    expect(cap).toBe(Math.floor((LIMIT - FD_RESERVE) / 2));

    // Bounded: HELD connections, opened in parallel, each settled within 5 s.
    sockets = await Promise.all(Array.from({ length: HELD }, () => hold(sup!.port)));

    // The gateway crashes while the connections are held: its respawn must get its pipes.
    process.kill(first['gatewayPid'] as number, 'SIGKILL');
    const ready = await sup.waitFor('gateway.ready', (record) => record['gatewayPid'] !== first['gatewayPid'], 20_000);
    expect(ready['gatewayPid']).not.toBe(first['gatewayPid']);
    expect(sup.events('gateway.spawn_failed')).toEqual([]);
    expect(sup.events('supervisor.internal_error')).toEqual([]);
    expect(sup.process.exitCode).toBeNull();

    // The excess was closed right at accept, not left hanging.
    expect(sockets.filter((held) => held.closedAt === null).length).toBeLessThanOrEqual(cap);
    const closedFast = sockets.filter((held) => held.closedAt !== null && held.connectedAt > 0 && held.closedAt - held.connectedAt < 1_000);
    expect(closedFast.length).toBeGreaterThanOrEqual(HELD - cap);
    const capped = await sup.waitFor('front_door.connections_capped', undefined, 5_000);
    expect(capped).toMatchObject({ level: 'warn', maxConnections: cap });

    // Once the held connections go, the front door serves again.
    for (const held of sockets) held.socket.destroy();
    expect(await pollUntil(async () => (await fetch(sup!.url('/readyz')).catch(() => null))?.status === 200, 5_000, 50)).toBe(true);
  }, 60_000);
});
