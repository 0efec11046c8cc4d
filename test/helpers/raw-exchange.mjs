// `node raw-exchange.mjs <host> <port> <request-base64> [then-base64] [waitMs]`: writes the raw
// bytes, then (after the first response bytes, if given) the second write, collects everything the
// server sends until it closes or waitMs pass, and prints {received, closed} as JSON (latin1 text).
// Runs inside a test's network namespace, where the test's own helpers are not importable.
import net from 'node:net';

const [host, port, first, then, waitArg] = process.argv.slice(2);
const waitMs = Number(waitArg ?? 3000);
let received = Buffer.alloc(0);
let sentThen = false;
const socket = net.connect({ host, port: Number(port) });
const done = (closed) => {
  process.stdout.write(`${JSON.stringify({ received: received.toString('latin1'), closed })}\n`);
  socket.destroy();
  process.exit(0);
};
socket.on('connect', () => socket.write(Buffer.from(first, 'base64')));
socket.on('data', (chunk) => {
  received = Buffer.concat([received, chunk]);
  if (then && !sentThen) {
    sentThen = true;
    socket.write(Buffer.from(then, 'base64'));
  }
});
socket.on('error', () => undefined);
socket.on('close', () => done(true));
setTimeout(() => done(false), waitMs);
