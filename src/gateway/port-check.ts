import net from 'node:net';
import { LOOPBACK_IPV4 } from '../host/loopback.js';

/** True when nobody listens on 127.0.0.1:port, checked by binding it for an instant. */
export function isLoopbackPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: LOOPBACK_IPV4, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
