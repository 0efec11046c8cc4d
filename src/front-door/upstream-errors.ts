/**
 * The one table from an error met while forwarding (before any byte of the gateway's answer went
 * to the client) to the client's answer, for HTTP and WebSocket alike.
 */

export interface UpstreamFailure {
  readonly status: 400 | 502 | 504;
  readonly body: { readonly error: string; readonly message: string };
  readonly headers: Readonly<Record<string, string>>;
  /** A failure of the gateway (logged as an incident, counted in the metrics), not of the request. */
  readonly incident: boolean;
}

/** Our own codes for what the WebSocket path meets on its raw socket. */
export const HANDSHAKE_TIMEOUT = 'FRONT_DOOR_HANDSHAKE_TIMEOUT';
export const BAD_HANDSHAKE = 'FRONT_DOOR_BAD_HANDSHAKE';

const RETRY = { 'retry-after': '1' } as const;

const BAD_GATEWAY: UpstreamFailure = {
  status: 502,
  body: { error: 'bad_gateway', message: 'the gateway did not answer; retry shortly' },
  headers: RETRY,
  incident: true,
};

const GATEWAY_TIMEOUT: UpstreamFailure = {
  status: 504,
  body: { error: 'gateway_timeout', message: 'the gateway did not answer in time' },
  headers: {},
  incident: true,
};

/**
 * The request as given cannot be sent (undici refuses a header or target it finds invalid). Node's
 * parser refuses the same characters first, so this is the client's request, not the gateway's
 * failure: 400 without an incident, on both paths.
 */
const UNSENDABLE: UpstreamFailure = {
  status: 400,
  body: { error: 'bad_request', message: 'the request cannot be forwarded as sent' },
  headers: {},
  incident: false,
};

const BY_CODE: ReadonlyMap<string, UpstreamFailure> = new Map([
  ['UND_ERR_HEADERS_TIMEOUT', GATEWAY_TIMEOUT],
  [HANDSHAKE_TIMEOUT, GATEWAY_TIMEOUT],
  ['UND_ERR_INVALID_ARG', UNSENDABLE],
  ['UND_ERR_NOT_SUPPORTED', UNSENDABLE],
]);

/** Anything else (refused or reset connections, a malformed answer, a connect timeout): 502, retry shortly. */
export function upstreamFailure(code: string | undefined): UpstreamFailure {
  return (code !== undefined && BY_CODE.get(code)) || BAD_GATEWAY;
}
