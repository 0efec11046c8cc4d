/**
 * One short conversation with the gateway over a loopback WebSocket, as its operator clients hold it
 * (openclaw@2026.9.6, protocol 4): wait for the `connect.challenge` event, answer with `connect`
 * (role operator, the given scopes, the token), then as many requests as the caller needs, then
 * close. Loopback needs no device pairing, so the token alone decides. The token goes only into the
 * connect frame, never into an error message.
 */

import { LOOPBACK_IPV4 } from '../host/loopback.js';

/** A `res` frame: the answer to one of our requests. */
export interface GatewayResponse {
  readonly type: 'res';
  readonly id: string;
  readonly ok?: boolean;
  readonly payload?: unknown;
  readonly error?: { readonly code?: string; readonly message?: string; readonly details?: { readonly code?: string } };
}

/** Why a conversation ended before the caller had its result. */
export type GatewayFailure = { readonly kind: 'timeout' } | { readonly kind: 'unreachable'; readonly detail?: string } | { readonly kind: 'closed' };

export type SendRequest = (id: string, method: string, params: object) => void;

export interface GatewayConversation<T> {
  readonly port: number;
  readonly token: string;
  readonly scopes: readonly string[];
  /** The connect request's id (the caller's own, so the gateway's logs tell the callers apart). */
  readonly connectId: string;
  readonly timeoutMs: number;
  /**
   * Each answer to one of our requests, the connect's first. Return the result to end the
   * conversation, or undefined to wait for the next answer (after `send`ing its request); throw to reject.
   */
  onResponse(response: GatewayResponse, send: SendRequest): T | undefined;
  /** The result when the conversation fails (timed out, unreachable, closed early); throw to reject. */
  onFailure(failure: GatewayFailure): T;
}

export async function converseWithGateway<T>(conversation: GatewayConversation<T>): Promise<T> {
  // undici is loaded at the first call, after the public port listens (its import costs ~190 ms of CPU).
  const { WebSocket } = await import('undici');
  const { port, token, scopes, connectId, timeoutMs } = conversation;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let ws: InstanceType<typeof WebSocket> | null = null;
    const sent = new Set<string>([connectId]);
    const settle = (produce: () => T | undefined): void => {
      if (settled) return;
      let result: T | undefined;
      try {
        result = produce();
      } catch (error) {
        finish();
        reject(error as Error);
        return;
      }
      if (result === undefined) return;
      finish();
      resolve(result);
    };
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      try {
        ws?.close(1000);
      } catch {
        // not open
      }
    };
    const fail = (failure: GatewayFailure): void => settle(() => conversation.onFailure(failure));
    const send: SendRequest = (id, method, params) => {
      sent.add(id);
      ws?.send(JSON.stringify({ type: 'req', id, method, params }));
    };
    const timer = setTimeout(() => fail({ kind: 'timeout' }), timeoutMs);
    try {
      ws = new WebSocket(`ws://${LOOPBACK_IPV4}:${port}/`);
    } catch (error) {
      fail({ kind: 'unreachable', detail: (error as Error).message });
      return;
    }
    ws.onerror = () => fail({ kind: 'unreachable' });
    ws.onclose = () => fail({ kind: 'closed' });
    ws.onmessage = (event) => {
      let message: { type?: unknown; event?: unknown; id?: unknown };
      try {
        message = JSON.parse(String(event.data)) as typeof message;
      } catch {
        return;
      }
      if (message === null || typeof message !== 'object') return;
      if (message.type === 'event' && message.event === 'connect.challenge') {
        const params = {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: 'gateway-client', version: 'openclaw-supervisor', platform: process.platform, mode: 'backend' },
          role: 'operator',
          scopes: [...scopes],
          auth: { token },
        };
        send(connectId, 'connect', params);
      } else if (message.type === 'res' && typeof message.id === 'string' && sent.has(message.id)) {
        const response = message as GatewayResponse;
        settle(() => conversation.onResponse(response, send));
      }
    };
  });
}
