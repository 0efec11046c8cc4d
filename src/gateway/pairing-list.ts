import { readPendingList, type PendingRequest } from './pending-pairing.js';

/**
 * The gateway's own list of pending device pairing requests, asked over a loopback WebSocket with
 * the token: `connect` with scope `operator.pairing` only, then `device.pair.list`, then close.
 * Measured on openclaw@2026.9.6 (2 cores): ~7.5 ms of gateway CPU and ~10 ms wall per call, where
 * `openclaw devices list --json` costs ~1.3 s of CPU in a Node 24 process. Rejects on any failure
 * (closed, refused, malformed, `timeoutMs` passed); the message never holds the token.
 */
export async function listPendingPairing(port: number, token: string, timeoutMs = 5_000): Promise<PendingRequest[]> {
  // undici is loaded at the first call, long after the public port listens (its import costs ~190 ms of CPU).
  const { WebSocket } = await import('undici');
  return new Promise((resolve, reject) => {
    let settled = false;
    let ws: InstanceType<typeof WebSocket> | null = null;
    const done = (error: Error | null, pending?: PendingRequest[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        ws?.close(1000);
      } catch {
        // not open
      }
      if (error) reject(error);
      else resolve(pending ?? []);
    };
    const timer = setTimeout(() => done(new Error(`the gateway did not list its pairing requests within ${timeoutMs} ms`)), timeoutMs);
    try {
      ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    } catch (error) {
      done(new Error(`cannot reach the gateway on 127.0.0.1:${port}: ${(error as Error).message}`));
      return;
    }
    ws.onerror = () => done(new Error(`cannot reach the gateway on 127.0.0.1:${port}`));
    ws.onclose = () => done(new Error('the gateway closed the connection before listing its pairing requests'));
    ws.onmessage = (event) => {
      let message: { type?: string; event?: string; id?: string; ok?: boolean; payload?: { pending?: unknown }; error?: { code?: string; message?: string } };
      try {
        message = JSON.parse(String(event.data)) as typeof message;
      } catch {
        return;
      }
      if (message.type === 'event' && message.event === 'connect.challenge') {
        const params = {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: 'gateway-client', version: 'openclaw-supervisor', platform: process.platform, mode: 'backend' },
          role: 'operator',
          scopes: ['operator.pairing'],
          auth: { token },
        };
        ws?.send(JSON.stringify({ type: 'req', id: 'supervisor-pairing-connect', method: 'connect', params }));
      } else if (message.type === 'res' && message.id === 'supervisor-pairing-connect') {
        if (message.ok !== true) done(new Error(`the gateway refused the supervisor's connection (${message.error?.code ?? 'no code'})`));
        else ws?.send(JSON.stringify({ type: 'req', id: 'supervisor-pairing-list', method: 'device.pair.list', params: {} }));
      } else if (message.type === 'res' && message.id === 'supervisor-pairing-list') {
        if (message.ok !== true) {
          done(new Error(`device.pair.list failed (${message.error?.code ?? 'no code'})`));
          return;
        }
        try {
          done(null, readPendingList(message.payload?.pending));
        } catch (error) {
          done(error as Error);
        }
      }
    };
  });
}
