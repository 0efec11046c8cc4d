import { describe, expect, it } from 'vitest';
import { clientErrorAction, type ClientErrorState } from '../../../src/front-door/client-errors.js';

const FRESH: ClientErrorState = { writable: true, bytesWritten: 0, pending: 0 };

describe('clientErrorAction', () => {
  it.each<[string, string | undefined, Partial<ClientErrorState>, string | number]>([
    ['a malformed request on a fresh connection', 'HPE_INVALID_METHOD', {}, 400],
    ['no code at all', undefined, {}, 400],
    ['a head too large', 'HPE_HEADER_OVERFLOW', {}, 431],
    ['a request too slow, its own answer pending', 'ERR_HTTP_REQUEST_TIMEOUT', { pending: 1 }, 408],
    ['a request too slow, nothing pending', 'ERR_HTTP_REQUEST_TIMEOUT', {}, 408],
    ['a request too slow behind another pending', 'ERR_HTTP_REQUEST_TIMEOUT', { pending: 2 }, 'destroy'],
    ['bad bytes behind a pending answer', 'HPE_INVALID_METHOD', { pending: 1 }, 'destroy'],
    ['bytes after a request that closes the connection', 'HPE_CLOSED_CONNECTION', { pending: 1 }, 'close-after-pending'],
    ['HPE_CLOSED_CONNECTION with nothing pending', 'HPE_CLOSED_CONNECTION', {}, 400],
    ['an answer already went out', 'HPE_INVALID_METHOD', { bytesWritten: 10 }, 'destroy'],
    ['a socket that cannot be written', 'HPE_HEADER_OVERFLOW', { writable: false }, 'destroy'],
    ['a timeout on a socket with bytes written', 'ERR_HTTP_REQUEST_TIMEOUT', { bytesWritten: 1, pending: 1 }, 'destroy'],
  ])('%s (%s) → %s', (_name, code, state, expected) => {
    const action = clientErrorAction(code, { ...FRESH, ...state });
    if (typeof expected === 'number') {
      expect(action).toMatchObject({ action: 'answer', status: expected });
    } else {
      expect(action).toEqual({ action: expected });
    }
  });

  it('names each answer as the client sees it', () => {
    expect(clientErrorAction('ERR_HTTP_REQUEST_TIMEOUT', FRESH)).toMatchObject({ body: { error: 'request_timeout' } });
    expect(clientErrorAction('HPE_HEADER_OVERFLOW', FRESH)).toMatchObject({ body: { error: 'bad_request', message: 'request head too large' } });
    expect(clientErrorAction('HPE_INVALID_METHOD', FRESH)).toMatchObject({ body: { error: 'bad_request', message: 'malformed or ambiguous request' } });
  });
});
