#!/usr/bin/env node
// Closed-loop WebSocket echo load, run as a process of its own so that its CPU never counts as the
// proxy's: each connection sends one message, waits for the echo, sends the next. Bounded by time
// and by message count. Prints one JSON line: { messages, totalMessages, seconds, rate, p50us, p99us, errors }.
//   node ws-load.mjs '{"url":"ws://127.0.0.1:1234/","connections":100,"size":64,"warmupMs":300,"durationMs":2000,"maxMessages":2000000}'
import WebSocket from 'ws';

const cfg = JSON.parse(process.argv[2]);
const payload = Buffer.alloc(cfg.size, 0x61);
const hr = () => Number(process.hrtime.bigint());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fail = (message) => {
  process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  process.exit(1);
};
setTimeout(() => fail('timed out'), cfg.warmupMs + cfg.durationMs + 20_000).unref();

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

let sockets;
try {
  sockets = [];
  // Batches: 100 simultaneous handshakes are fine, 1000 would be a connect storm, not this benchmark.
  for (let i = 0; i < cfg.connections; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, cfg.connections - i) }, open))));
  }
} catch (error) {
  fail(`connect: ${error.message}`);
}

let measuring = false;
let stopping = false;
let inFlight = 0;
let errors = 0;
let messages = 0;
// Every echo, warm-up and drain included: the denominator of the proxies' CPU time per message.
let totalMessages = 0;
const samples = [];
let drained = () => undefined;

for (const ws of sockets) {
  let sentAt = 0;
  const send = () => {
    sentAt = hr();
    inFlight++;
    ws.send(payload);
  };
  ws.on('message', (data) => {
    const rtt = hr() - sentAt;
    inFlight--;
    totalMessages++;
    if (data.length !== cfg.size) errors++;
    if (measuring) {
      messages++;
      samples.push(rtt);
      if (messages >= cfg.maxMessages) measuring = false;
    }
    if (stopping) {
      if (inFlight === 0) drained();
      return;
    }
    send();
  });
  ws.on('error', () => errors++);
  ws.on('close', () => {
    if (!stopping) errors++;
  });
  ws.start = send;
}
for (const ws of sockets) ws.start();

await sleep(cfg.warmupMs);
measuring = true;
const t0 = hr();
while (measuring && hr() - t0 < cfg.durationMs * 1e6) await sleep(Math.min(50, cfg.durationMs));
measuring = false;
const seconds = (hr() - t0) / 1e9;
stopping = true;
await Promise.race([new Promise((resolve) => (drained = resolve)), sleep(2000)]);
for (const ws of sockets) ws.close();

samples.sort((a, b) => a - b);
const pct = (p) => (samples.length ? samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] / 1000 : null);
process.stdout.write(`${JSON.stringify({ messages, totalMessages, seconds, rate: messages / seconds, p50us: pct(50), p99us: pct(99), errors })}\n`);
await sleep(100);
process.exit(0);
