/**
 * What to do about a request Node's parser refused (malformed, ambiguous, too large, too slow),
 * decided from the error code and the connection's state alone (pure; front-door.ts acts on it).
 */

export interface ClientErrorState {
  /** The socket can still be written to. */
  readonly writable: boolean;
  /** Bytes already written on the connection: an answer went out (or began to). */
  readonly bytesWritten: number;
  /** Requests on the connection whose answer is not complete yet. */
  readonly pending: number;
}

export type ClientErrorAction =
  /** The request before the bad bytes closes the connection: it gets its answer, the rest is dropped. */
  | { readonly action: 'close-after-pending' }
  | { readonly action: 'answer'; readonly status: 400 | 408 | 431; readonly body: { readonly error: string; readonly message: string } }
  | { readonly action: 'destroy' };

/**
 * The status goes out only when no earlier answer is pending on the connection (or, for a timeout,
 * only the slow request's own): written in front of a pending answer, the client would take it as
 * that one's. Either way the connection ends: nothing after a parse error can be framed with certainty.
 */
export function clientErrorAction(code: string | undefined, state: ClientErrorState): ClientErrorAction {
  const timedOut = code === 'ERR_HTTP_REQUEST_TIMEOUT';
  // Bytes after a request that closes the connection: that request is certain and gets its
  // answer, after which the connection ends (its own Connection: close); the rest is dropped.
  if (code === 'HPE_CLOSED_CONNECTION' && state.pending > 0) return { action: 'close-after-pending' };
  if (!state.writable || state.bytesWritten !== 0 || state.pending > (timedOut ? 1 : 0)) return { action: 'destroy' };
  if (code === 'HPE_HEADER_OVERFLOW') return { action: 'answer', status: 431, body: { error: 'bad_request', message: 'request head too large' } };
  if (timedOut) return { action: 'answer', status: 408, body: { error: 'request_timeout', message: 'the request did not arrive in time' } };
  return { action: 'answer', status: 400, body: { error: 'bad_request', message: 'malformed or ambiguous request' } };
}
