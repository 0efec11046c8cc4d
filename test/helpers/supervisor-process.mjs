// The one harness for a real supervisor process, shared by the tests (test/helpers/supervisor.ts)
// and the bench (bench/lib/supervisor.mjs): where the CLI and the fake gateway are, a free loopback
// port, the environment a run gets, and its JSON log read line by line with a wait for a record.
// Plain .mjs so that the bench (plain Node) and vitest both import it; types in the .d.mts.
import net from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const FAKE_GATEWAY = join(ROOT, 'test', 'fixtures', 'fake-gateway.mjs');

/** Ports this process has handed out: the kernel may hand the same released port out twice in a row. */
const handedOut = new Set();

/**
 * A loopback port that was free a moment ago (bound to 0 and released), never one this process
 * handed out before: two calls in a row (a public and a gateway port) once returned the same port.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await boundAndReleased();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no loopback port that was not handed out already, after 50 tries');
}

function boundAndReleased() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The environment of one run: a clean base (PATH, HOME), its ports, state dir and token, then
 * `extra` on top; an `undefined` in `extra` removes the variable.
 */
export function supervisorEnv({ port, gatewayPort, stateDir, token, extra = {} }) {
  const env = {};
  for (const [key, value] of Object.entries({
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    PORT: String(port),
    SUPERVISOR_GATEWAY_PORT: String(gatewayPort),
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_GATEWAY_TOKEN: token,
    ...extra,
  })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Calls `onLine(line)` for every line of `stream`; resolves once the stream has ended and its last line was delivered. */
export function eachLine(stream, onLine) {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', onLine);
  return new Promise((closed) => lines.once('close', closed));
}

/**
 * A supervisor's log as it arrives: `push` each output line with its arrival time; JSON lines
 * become `entries` ({ record, at }) and `records` (the records alone). `end()` says no line can come any more (its pipes closed):
 * a wait for a record that has not come then fails at once, with the last lines.
 */
export function createLogReader({ keepLines = Number.POSITIVE_INFINITY } = {}) {
  const output = [];
  const entries = [];
  const records = [];
  const listeners = new Set();
  let ended = false;
  const wake = () => {
    for (const listener of listeners) listener();
  };
  const lastLines = (n) => output.slice(-n).join('\n');
  return {
    output,
    entries,
    records,
    get ended() {
      return ended;
    },
    push(line, at = Date.now()) {
      output.push(line);
      if (output.length > keepLines) output.splice(0, output.length - keepLines);
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        // a plain line (usage error, stack): kept in output only
      }
      if (record !== undefined) {
        entries.push({ record, at });
        records.push(record);
      }
      wake();
    },
    end() {
      ended = true;
      wake();
    },
    /** Resolves with the first entry of `event` whose record passes `test`, logged already or to come. */
    waitFor(event, test = () => true, timeoutMs = 30_000) {
      return new Promise((resolveWait, rejectWait) => {
        const check = () => {
          const found = entries.find((entry) => entry.record?.event === event && test(entry.record));
          if (found) {
            cleanup();
            resolveWait(found);
          } else if (ended) {
            cleanup();
            rejectWait(new Error(`supervisor exited before logging ${event}; last lines:\n${lastLines(15)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          rejectWait(new Error(`no ${event} within ${timeoutMs} ms; last lines:\n${lastLines(15)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
