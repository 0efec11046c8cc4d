import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { converseWithGateway } from './gateway-ws.js';
import { readPendingList, type PendingRequest } from './pending-pairing.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * The gateway's own list of pending device pairing requests, asked over a loopback WebSocket with
 * the token: `connect` with scope `operator.pairing` only, then `device.pair.list`, then close.
 * Measured on openclaw@2026.9.6 (2 cores): ~7.5 ms of gateway CPU and ~10 ms wall per call, where
 * `openclaw devices list --json` costs ~1.3 s of CPU in a Node 24 process. Rejects on any failure
 * (closed, refused, malformed, `timeoutMs` passed); the message never holds the token.
 */
export function listPendingPairing(port: number, token: string, timeoutMs = TIME_BOUNDS.pairingListTimeout.ms): Promise<PendingRequest[]> {
  return converseWithGateway<PendingRequest[]>({
    port,
    token,
    scopes: ['operator.pairing'],
    connectId: 'supervisor-pairing-connect',
    timeoutMs,
    onResponse(response, send) {
      if (response.id === 'supervisor-pairing-connect') {
        if (response.ok !== true) throw new Error(`the gateway refused the supervisor's connection (${response.error?.code ?? 'no code'})`);
        send('supervisor-pairing-list', 'device.pair.list', {});
        return undefined;
      }
      if (response.ok !== true) throw new Error(`device.pair.list failed (${response.error?.code ?? 'no code'})`);
      return readPendingList((response.payload as { pending?: unknown } | null | undefined)?.pending);
    },
    onFailure(failure) {
      switch (failure.kind) {
        case 'timeout':
          throw new Error(`the gateway did not list its pairing requests within ${timeoutMs} ms`);
        case 'unreachable':
          throw new Error(`cannot reach the gateway on ${LOOPBACK_IPV4}:${port}${failure.detail === undefined ? '' : `: ${failure.detail}`}`);
        case 'closed':
          throw new Error('the gateway closed the connection before listing its pairing requests');
      }
    },
  });
}
