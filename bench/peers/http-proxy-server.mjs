#!/usr/bin/env node
// The peer most OpenClaw deployments use today: the public Node/Railway templates put the gateway
// behind http-proxy (node-http-proxy) with `ws: true`. This is that proxy, minimal and as they
// configure it: one createProxyServer with the gateway as target, `web` for requests, `ws` for
// upgrades, no agent (http-proxy's default: a new upstream connection per request), no xfwd (an
// X-Forwarded-For of 127.0.0.1 would make the real gateway answer 403 proxy_attribution_required).
//   node http-proxy-server.mjs <listen port> <upstream port>     prints "listening <port>" when ready
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${upstreamPort}`, ws: true });
proxy.on('error', (_error, _req, resOrSocket) => {
  if (resOrSocket && typeof resOrSocket.writeHead === 'function' && !resOrSocket.headersSent) {
    resOrSocket.writeHead(502, { 'content-type': 'text/plain' });
    resOrSocket.end('bad gateway');
  } else {
    resOrSocket?.destroy?.();
  }
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
