import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessFrontDoor } from '../helpers/in-process-front-door.js';
import type { FrontDoor } from '../../src/front-door/front-door.js';
import { pollUntil } from '../helpers/proc.js';

/**
 * The upstream pool is bounded by the front door's own connection cap, never below: clients that
 * never read keep their exchange (and its socket to the gateway) until the stall bound, so a lower
 * cap would make everyone else wait behind them.
 */
describe('front door: the upstream pool', () => {
  const BIG = Buffer.alloc(8 * 1024 * 1024, 97);
  let gateway: http.Server;
  let frontDoor: FrontDoor;
  let port: number;
  const stalled: net.Socket[] = [];

  beforeAll(async () => {
    gateway = http.createServer((req, res) => (req.url === '/big' ? res.end(BIG) : res.end('ok')));
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    ({ frontDoor, port } = await inProcessFrontDoor((gateway.address() as AddressInfo).port, { maxConnections: 200 }));
  });

  afterAll(async () => {
    for (const socket of stalled) socket.destroy();
    frontDoor?.startDrain();
    await frontDoor?.cutRemaining();
    gateway?.closeAllConnections();
    await new Promise((resolve) => gateway?.close(resolve));
  });

  it('80 clients that never read an 8 MB answer do not hold up a plain GET', async () => {
    for (let i = 0; i < 80; i++) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause();
      stalled.push(socket);
    }
    expect(await pollUntil(async () => frontDoor.inflightRequests >= 80, 10_000)).toBe(true);
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/small`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
