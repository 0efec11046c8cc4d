import http from 'node:http';
import { LOOPBACK_IPV4 } from '../host/loopback.js';

export type LoopbackGetError = 'timeout' | 'refused' | 'reset' | 'too_large' | 'error';

export type LoopbackGetAnswer = { readonly ok: true; readonly status: number; readonly body: string } | { readonly ok: false; readonly error: LoopbackGetError };

/**
 * GET `path` from the gateway on 127.0.0.1, on a socket of its own (`agent: false`: never one of the
 * forwarding pool's), the whole exchange bounded by `timeoutMs` (a trickling answer too). The body is
 * read up to `maxBodyBytes` (a larger one fails `too_large`), or discarded when that is null.
 * `signal` (the gateway exited, a stop began) ends the exchange at once: socket and timer with it.
 * Never rejects.
 */
export function loopbackGet(port: number, path: string, timeoutMs: number, maxBodyBytes: number | null, signal?: AbortSignal): Promise<LoopbackGetAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: LoopbackGetAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      signal?.removeEventListener('abort', aborted);
      resolve(answer);
    };
    const aborted = (): void => {
      done({ ok: false, error: 'error' });
      request.destroy();
    };
    const timedOut = (): void => {
      request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    };
    const request = http.get({ host: LOOPBACK_IPV4, port, path, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      if (maxBodyBytes === null) response.resume();
      else
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            done({ ok: false, error: 'too_large' });
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
      response.on('end', () => done({ ok: true, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', () => done({ ok: false, error: 'reset' }));
    });
    // `timeout` is socket inactivity; `bound` is the whole exchange.
    const bound = setTimeout(timedOut, timeoutMs);
    request.on('timeout', timedOut);
    request.on('error', (error: NodeJS.ErrnoException) =>
      done({ ok: false, error: error.code === 'ETIMEDOUT' ? 'timeout' : error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : 'error' }),
    );
    request.on('close', () => done({ ok: false, error: 'reset' }));
    if (signal?.aborted) aborted();
    else signal?.addEventListener('abort', aborted, { once: true });
  });
}
