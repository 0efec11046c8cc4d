#!/usr/bin/env node
// Closed-loop OpenClaw session setup, run as a process of its own so that its CPU never counts as
// a proxy's: each of `connections` loops opens a WebSocket, answers the gateway's connect.challenge
// with a `connect` request carrying the token (protocol 4, as test/helpers/gateway-client.mjs does),
// waits for the `hello-ok` response, closes (1000) and starts over once the close completed.
// Latency: socket open requested → hello-ok received. Bounded by time and by session count.
// Prints one JSON line: { messages, totalMessages, seconds, rate, p50us, p99us, errors, lastError }.
//   node ws-connect-load.mjs '{"url":"ws://127.0.0.1:1234/","token":"…","connections":1,"warmupMs":300,"durationMs":2000,"maxSessions":100000}'
import WebSocket from 'ws';
import { connectParams } from '../../test/helpers/gateway-client.mjs';

const cfg = JSON.parse(process.argv[2]);
const hr = () => Number(process.hrtime.bigint());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ error: 'timed out' })}\n`);
  process.exit(1);
}, cfg.warmupMs + cfg.durationMs + 20_000).unref();

let measuring = false;
let stopping = false;
let errors = 0;
let lastError = null;
let messages = 0;
// Every completed session, warm-up included: the denominator of the proxies' CPU per session.
let totalMessages = 0;
const samples = [];

/** One session: resolves when its socket is closed (after hello-ok, or on any failure), true if it failed. */
function session() {
  return new Promise((resolve) => {
    const startedAt = hr();
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    let done = false;
    let failed = false;
    const fail = (why) => {
      if (done) return;
      done = true;
      failed = true;
      errors++;
      lastError = why;
      ws.terminate();
    };
    const guard = setTimeout(() => fail('no hello-ok within 10 s'), 10_000);
    ws.on('message', (data) => {
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return fail('non-JSON frame');
      }
      if (message.type === 'event' && message.event === 'connect.challenge') {
        ws.send(JSON.stringify({ type: 'req', id: 'c1', method: 'connect', params: connectParams(cfg.token) }));
      } else if (message.type === 'res' && message.id === 'c1') {
        if (!message.ok || message.payload?.type !== 'hello-ok') return fail(`connect refused: ${JSON.stringify(message.error ?? message.payload?.type)}`);
        done = true;
        clearTimeout(guard);
        totalMessages++;
        if (measuring) {
          messages++;
          samples.push(hr() - startedAt);
        }
        ws.close(1000, 'done');
        // A close handshake the peer never completes must not stall the loop.
        setTimeout(() => ws.terminate(), 2_000).unref();
      }
    });
    ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`));
    ws.on('error', (error) => fail(error.message));
    ws.on('close', () => {
      clearTimeout(guard);
      if (!done) fail('closed before hello-ok');
      resolve(failed);
    });
  });
}

async function loop() {
  while (!stopping && messages < cfg.maxSessions) {
    // After a failure, do not spin: the gateway may be rate limiting.
    if (await session()) await sleep(10);
  }
}

const loops = Array.from({ length: cfg.connections }, loop);
await sleep(cfg.warmupMs);
measuring = true;
const t0 = hr();
while (hr() - t0 < cfg.durationMs * 1e6 && messages < cfg.maxSessions) await sleep(Math.min(50, cfg.durationMs));
measuring = false;
const seconds = (hr() - t0) / 1e9;
stopping = true;
await Promise.race([Promise.all(loops), sleep(5_000)]);

samples.sort((a, b) => a - b);
const pct = (p) => (samples.length ? samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] / 1000 : null);
process.stdout.write(`${JSON.stringify({ messages, totalMessages, seconds, rate: messages / seconds, p50us: pct(50), p99us: pct(99), errors, lastError })}\n`);
await sleep(50);
process.exit(0);
