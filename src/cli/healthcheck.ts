import http from 'node:http';
import { localAddressFor } from '../host/loopback.js';

/**
 * `openclaw-supervisor healthcheck`: GET /readyz on the local public port. One line out, exit 0
 * when it answers 200, 1 otherwise (Docker HEALTHCHECK, Kubernetes exec probe).
 */
export function healthcheck(host: string, port: number, timeoutMs: number): Promise<{ code: 0 | 1; line: string }> {
  const target = localAddressFor(host);
  const url = `http://${target.includes(':') ? `[${target}]` : target}:${port}/readyz`;
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        let state = 'unknown';
        try {
          state = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { state?: unknown }).state ?? 'unknown');
        } catch {
          // not our JSON: keep "unknown"
        }
        resolve(
          response.statusCode === 200
            ? { code: 0, line: `ready: ${url} answered 200 (state ${state})` }
            : { code: 1, line: `not ready: ${url} answered ${response.statusCode} (state ${state})` },
        );
      });
    });
    request.on('timeout', () => {
      request.destroy();
      resolve({ code: 1, line: `not ready: ${url} did not answer within ${timeoutMs} ms` });
    });
    request.on('error', (error: Error & { code?: string }) => {
      resolve({ code: 1, line: `not ready: ${url} unreachable (${error.code ?? error.message}); is the supervisor running on this PORT?` });
    });
  });
}
