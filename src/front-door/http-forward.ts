import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardedHeaders, type Peer } from './client-attribution.js';
import { sendJson } from './responses.js';
import type { UpstreamIncidents } from './upstream-incidents.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export interface Upstream {
  readonly port: number;
  readonly agent: http.Agent;
  readonly incidents: UpstreamIncidents;
}

/** Keep-alive to the gateway, shorter-lived than Node's 5 s server keep-alive so a reused socket is never half-closed. */
export function createUpstreamAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, keepAliveMsecs: 1_000, timeout: 4_000, scheduling: 'lifo' });
}

/** Streams one request to the gateway and its response back, bodies untouched and unbuffered. */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, peer: Peer, upstream: Upstream): void {
  const upstreamReq = http.request({
    host: '127.0.0.1',
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req.headers, peer, false),
    agent: upstream.agent,
  });
  upstreamReq.on('response', (upstreamRes) => {
    upstream.incidents.succeeded();
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstreamRes.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    // The gateway died mid-body: the client must see a cut response, not a complete one.
    upstreamRes.on('aborted', () => res.destroy());
  });
  upstreamReq.on('error', (error: Error & { code?: string }) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The client went away (its response was destroyed), so nobody waits for a 502. Not
    // `req.destroyed`: Node destroys a request once its body is read, i.e. before any upstream error.
    if (res.destroyed) return;
    upstream.incidents.failed('http', error);
    sendJson(res, 502, { error: 'bad_gateway', message: 'the gateway did not answer; retry shortly' }, { 'retry-after': '1', connection: 'close' });
  });
  // The client went away before its response was complete: stop the gateway's work too.
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  req.pipe(upstreamReq);
}
