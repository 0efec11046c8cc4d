import http from 'node:http';

export type ProbeResult =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly startedAt: number }
  | { readonly ok: false; readonly error: string; readonly startedAt: number };

/**
 * One GET on a fresh connection (no keep-alive pool), so that a refused connection shows up as
 * ECONNREFUSED instead of being hidden by a reused socket. Never rejects.
 */
export function probe(url: string, timeoutMs = 2_000): Promise<ProbeResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ ok: true, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), startedAt }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code ?? error.message, startedAt }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code ?? error.message, startedAt }));
  });
}

/** Probes `url` every `intervalMs` until stop() is called; stop() resolves with every result, `count()` says how many so far. */
export function pollInBackground(url: string, intervalMs = 25): { stop(): Promise<ProbeResult[]>; count(): number } {
  const results: ProbeResult[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      results.push(await probe(url, 1_000));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    count: () => results.length,
    async stop() {
      running = false;
      await loop;
      return results;
    },
  };
}
