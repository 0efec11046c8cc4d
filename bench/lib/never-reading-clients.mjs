#!/usr/bin/env node
// N clients that each send one GET and never read the answer (issue 19's burst), in a process of its
// own so that their memory and CPU never count as the supervisor's. Raw TCP: a socket that is paused
// before its first read leaves every byte of the answer to the kernel and to the sender.
//   node never-reading-clients.mjs '{"port":1234,"host":"127.0.0.1","count":1000,"path":"/bytes?n=1048576","holdMs":20000}'
// Prints {"open":n,"failed":f,"ms":t} once every request is written, holds the connections holdMs
// (or until SIGTERM / stdin ends), destroys them all and prints {"closed":n,"readBytes":0}.
import net from 'node:net';

const cfg = JSON.parse(process.argv[2]);
const sockets = [];
let failed = 0;
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const end = () => {
  for (const socket of sockets) socket.destroy();
  print({ closed: sockets.length });
  process.exit(0);
};
// Bounded: never outlive a stuck benchmark.
setTimeout(end, cfg.holdMs + 60_000).unref();
process.on('SIGTERM', end);

function open() {
  return new Promise((resolve) => {
    const socket = net.connect({ port: cfg.port, host: cfg.host ?? '127.0.0.1' });
    socket.pause();
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(`GET ${cfg.path} HTTP/1.1\r\nHost: 127.0.0.1:${cfg.port}\r\nUser-Agent: never-reads\r\n\r\n`);
      sockets.push(socket);
      resolve();
    });
    socket.once('close', () => {
      if (!sockets.includes(socket)) failed++;
      resolve();
    });
  });
}

const t0 = performance.now();
// Batches of 100: a burst of clients, not a SYN flood of the accept queue.
for (let i = 0; i < cfg.count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, cfg.count - i) }, open));
}
print({ open: sockets.length, failed, ms: Math.round(performance.now() - t0) });
setTimeout(end, cfg.holdMs);
