import { describe, expect, it } from 'vitest';
import { BAD_HANDSHAKE, HANDSHAKE_TIMEOUT, upstreamFailure } from '../../../src/front-door/upstream-errors.js';

describe('upstreamFailure: one table for HTTP and WebSocket', () => {
  it.each<[string | undefined, number, string, boolean]>([
    ['UND_ERR_HEADERS_TIMEOUT', 504, 'gateway_timeout', true],
    [HANDSHAKE_TIMEOUT, 504, 'gateway_timeout', true],
    ['UND_ERR_INVALID_ARG', 400, 'bad_request', false],
    ['UND_ERR_NOT_SUPPORTED', 400, 'bad_request', false],
    ['ECONNREFUSED', 502, 'bad_gateway', true],
    ['ECONNRESET', 502, 'bad_gateway', true],
    ['UND_ERR_SOCKET', 502, 'bad_gateway', true],
    ['UND_ERR_CONNECT_TIMEOUT', 502, 'bad_gateway', true],
    [BAD_HANDSHAKE, 502, 'bad_gateway', true],
    [undefined, 502, 'bad_gateway', true],
    ['toString', 502, 'bad_gateway', true],
  ])('%s → %i %s (incident: %s)', (code, status, error, incident) => {
    const failure = upstreamFailure(code);
    expect(failure.status).toBe(status);
    expect(failure.body.error).toBe(error);
    expect(failure.incident).toBe(incident);
    expect(failure.headers).toEqual(status === 502 ? { 'retry-after': '1' } : {});
  });
});
