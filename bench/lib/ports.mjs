// Ports are picked by the kernel (bind to 0, release) so that parallel test runs and whatever
// else the machine is running never collide with a fixed number.
import net from 'node:net';
import { now, sleep } from './procs.mjs';

// The tests' own: one implementation for both.
export { freePort } from '../../test/helpers/supervisor-process.mjs';

/** One TCP connect attempt: true when something accepts on 127.0.0.1:port. */
export function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until the port accepts; resolves with the wall-clock instant it first did. */
export async function waitForPort(port, { timeoutMs = 10_000, intervalMs = 5 } = {}) {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return now();
    if (now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
