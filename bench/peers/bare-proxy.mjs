#!/usr/bin/env node
// The floor of any Node front door: node:http in front of an undici Pool (the supervisor's engine),
// and WebSocket upgrades on a raw socket, the client's head passed as is and the gateway's answer
// piped back unread. No header rules beyond hop-by-hop, no admission, no attribution, no bounds.
// The GC benchmarks and the real-gateway benchmark run it next to the supervisor to tell Node's
// own cost from the supervisor's.
//   node bare-proxy.mjs <listen port> <upstream port>     prints "listening <port>" when ready
import http from 'node:http';
import net from 'node:net';
import { Pool } from 'undici';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { pipelining: 1, keepAliveTimeout: 3_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect', 'content-length']);

const server = http.createServer((req, res) => {
  const raw = req.rawHeaders;
  const headers = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
  const length = req.headers['content-length'];
  if (length !== undefined && length !== '0') headers.push('content-length', length);
  const body = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined ? req : null;
  let controller = null;
  res.on('close', () => res.writableFinished || controller?.abort(new Error('client gone')));
  pool.dispatch({ method: req.method, path: req.url, headers, body }, {
    onRequestStart: (ctrl) => (controller = ctrl),
    onResponseStart(_ctrl, status, upstreamHeaders, message) {
      for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete upstreamHeaders[name];
      res.writeHead(status, message, upstreamHeaders);
    },
    onResponseData(ctrl, chunk) {
      if (res.write(chunk)) return;
      ctrl.pause();
      res.once('drain', () => ctrl.resume());
    },
    onResponseEnd: () => res.end(),
    onResponseError: () => (res.headersSent ? res.destroy() : res.writeHead(502).end()),
  });
});
server.on('upgrade', (req, socket, head) => {
  const gateway = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  gateway.write(`${text}\r\n`);
  if (head.length > 0) gateway.write(head);
  gateway.pipe(socket).pipe(gateway);
  gateway.on('error', () => socket.destroy());
  socket.on('error', () => gateway.destroy());
  gateway.on('close', () => socket.destroy());
  socket.on('close', () => gateway.destroy());
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
