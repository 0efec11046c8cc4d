import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Throwaway HTTP servers on 127.0.0.1: `serve(handler)` resolves with the port; `closeAll()` for afterEach. */
export function loopbackServers(): { serve(handler: http.RequestListener): Promise<number>; closeAll(): Promise<void> } {
  const servers: http.Server[] = [];
  return {
    async serve(handler) {
      const server = http.createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
    async closeAll() {
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
