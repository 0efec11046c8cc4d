#!/usr/bin/env node
// Holds N idle WebSocket connections open, in a process of its own so that answering N close
// handshakes does not delay the bench's own view of when the supervisor exited.
//   node ws-idle-clients.mjs <url> <n>   prints {"open":n} once all are open, {"closed":n,...} at the end
import WebSocket from 'ws';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const codes = {};
let closed = 0;
const done = () => {
  process.stdout.write(`${JSON.stringify({ closed, codes })}\n`);
  process.exit(0);
};
// Bounded: never outlive a stuck benchmark.
setTimeout(done, 60_000).unref();

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.on('close', (code) => {
      codes[code] = (codes[code] ?? 0) + 1;
      if (++closed === count) done();
    });
  });
}

try {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, open));
  }
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ open: count })}\n`);
if (count === 0) done();
