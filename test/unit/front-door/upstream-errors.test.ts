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

describe('each answer, whole', () => {
  it.each<[string | undefined, ReturnType<typeof upstreamFailure>]>([
    ['UND_ERR_HEADERS_TIMEOUT', { status: 504, body: { error: 'gateway_timeout', message: 'the gateway did not answer in time' }, headers: {}, incident: true }],
    ['UND_ERR_INVALID_ARG', { status: 400, body: { error: 'bad_request', message: 'the request cannot be forwarded as sent' }, headers: {}, incident: false }],
    ['ECONNREFUSED', { status: 502, body: { error: 'bad_gateway', message: 'the gateway did not answer; retry shortly' }, headers: { 'retry-after': '1' }, incident: true }],
  ])('%s', (code, failure) => {
    expect(upstreamFailure(code)).toEqual(failure);
  });

  it("the raw WebSocket path's own codes cannot be mistaken for undici's or the system's", () => {
    expect([HANDSHAKE_TIMEOUT, BAD_HANDSHAKE]).toEqual(['FRONT_DOOR_HANDSHAKE_TIMEOUT', 'FRONT_DOOR_BAD_HANDSHAKE']);
  });
});
