import http from 'node:http';
import type { Registry } from 'prom-client';
import { ALL_INTERFACES, ALL_IPV4_INTERFACES } from '../host/loopback.js';

export const METRICS_PATH = '/metrics';

export interface MetricsServer {
  readonly address: string;
  readonly port: number;
  close(): void;
}

/**
 * `GET /metrics` on a listener of its own (SUPERVISOR_METRICS_PORT), never on the public port: the
 * Kubernetes convention (a scrape port in the pod, not in the Service the edge routes to), and
 * nothing on the public port can reach it. Everything else is 404; only GET and HEAD.
 */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== METRICS_PATH) {
      send(res, 404, 'text/plain; charset=utf-8', `not found: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => send(res, 200, registry.contentType, text),
      () => send(res, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n'),
    );
  });
  const listen = (on: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: on, port, ipv6Only: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(host);
  } catch (error) {
    // All interfaces on a host without IPv6: all IPv4 interfaces, as the front door does.
    const code = (error as NodeJS.ErrnoException).code;
    if (host !== ALL_INTERFACES || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
    await listen(ALL_IPV4_INTERFACES);
  }
  // Never what keeps a finished supervisor alive.
  server.unref();
  const bound = server.address();
  return {
    address: typeof bound === 'object' && bound ? bound.address : host,
    port: typeof bound === 'object' && bound ? bound.port : port,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
