#!/usr/bin/env node
// The floor of any Node front door: a bare HTTP proxy, http.request + pipe through a keep-alive
// agent, nothing else (no header rules, no WebSocket, no admission). The GC benchmark and
// bench/gc-remedy.mjs run it next to the supervisor to tell Node's own cost from the supervisor's.
//   node bare-proxy.mjs <listen port> <upstream port>     prints "listening <port>" when ready
import http from 'node:http';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1_000, timeout: 4_000, scheduling: 'lifo' });
const server = http.createServer((req, res) => {
  const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    upstreamRes.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
