// 5. Stop time: SIGTERM to the supervisor's exit with 0, 100 and 1000 idle WebSocket connections
// open through the front door. The fake gateway closes its sockets at once on SIGTERM (event
// `shutdown`, close 1012), so what is measured is the supervisor's own drain. Side by side in each
// round: the same fake gateway alone, SIGTERMed with the same connections open directly.
import { join } from 'node:path';
import { FAKE_GATEWAY, startSupervisor } from './lib/supervisor.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { now, start } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { fmt, median, medianDiff, slope } from './lib/stats.mjs';

export const id = 'stop';
export const title = '5. Stop time';

const IDLE_CLIENTS = join(import.meta.dirname, 'lib', 'ws-idle-clients.mjs');
const COUNTS = [0, 100, 1000];
const GOAL_MS = 300;

/** Opens `count` idle connections to `port` from a separate process; resolves once all are open. */
async function openClients(port, count) {
  if (count === 0) return null;
  const clients = start(process.execPath, [IDLE_CLIENTS, `ws://127.0.0.1:${port}/`, String(count)]);
  const { line } = await clients.waitLine((l) => l.startsWith('{'), 30_000);
  if (!line.startsWith('{"open"')) throw new Error(`idle clients: ${line}`);
  return clients;
}

/** SIGTERM at t0 → the process's exit as the bench sees it (the exit event, not its pipes closing). */
async function timeStop(proc) {
  const t0 = now();
  proc.child.kill('SIGTERM');
  const exit = await proc.exited;
  return { ms: exit.at - t0, code: exit.code };
}

async function throughSupervisor(count) {
  const sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
  let clients = null;
  try {
    await sup.waitFor('gateway.ready');
    clients = await openClients(sup.port, count);
    const { ms, code } = await timeStop(sup.proc);
    if (code !== 0) throw new Error(`supervisor exited with ${code} on SIGTERM`);
    // The drain as the supervisor measured it: the rest is its exit path (flush, process.exit).
    const drain = sup.events('supervisor.drain_finished')[0]?.record;
    return { ms, drainMs: drain?.durationMs ?? Number.NaN, cut: drain?.websocketsCut ?? Number.NaN };
  } finally {
    await clients?.stop('SIGKILL', 1000);
    await sup.stop('SIGKILL', 1000);
  }
}

async function gatewayAlone(count) {
  const port = await freePort();
  const gateway = start(process.execPath, [FAKE_GATEWAY, '--port', String(port)], { env: { ...process.env, FAKE_READY_AFTER_MS: '0' } });
  let clients = null;
  try {
    await waitForPort(port);
    clients = await openClients(port, count);
    return (await timeStop(gateway)).ms;
  } finally {
    await clients?.stop('SIGKILL', 1000);
    await gateway.stop('SIGKILL', 1000);
  }
}

export async function run({ smoke, log }) {
  const runs = smoke ? 1 : 5;
  const sup = Object.fromEntries(COUNTS.map((n) => [n, []]));
  const alone = Object.fromEntries(COUNTS.map((n) => [n, []]));
  for (let r = 0; r < runs; r++) {
    for (const n of COUNTS) {
      const s = await throughSupervisor(n);
      const a = await gatewayAlone(n);
      sup[n].push(s);
      alone[n].push(a);
      log(`stop with ${n} WebSockets, run ${r + 1}/${runs}: supervisor ${fmt(s.ms, 'ms')} (drain ${fmt(s.drainMs, 'ms')}, cut ${s.cut}), gateway alone ${fmt(a, 'ms')}`);
    }
  }
  const figures = {};
  const rows = [];
  for (const n of COUNTS) {
    const f = {
      supervisorMs: median(sup[n].map((x) => x.ms)),
      drainMs: median(sup[n].map((x) => x.drainMs)),
      gatewayAloneMs: median(alone[n]),
      addedMs: medianDiff(
        sup[n].map((x) => x.ms),
        alone[n],
      ),
    };
    for (const [name, value] of Object.entries(f)) figures[`ws${n}_${name}`] = value;
    rows.push(
      row(
        `SIGTERM → exit, ${n} idle WebSockets`,
        `${fmt(f.supervisorMs, 'ms')} (drain ${fmt(f.drainMs, 'ms')})`,
        `fake gateway alone, same connections direct: ${fmt(f.gatewayAloneMs, 'ms')} (supervisor adds ${fmt(f.addedMs, 'ms')})`,
        n === 1000 ? `< ${GOAL_MS} ms` : '',
        n === 1000 ? f.supervisorMs < GOAL_MS : null,
      ),
    );
  }
  // Linear at most: the cost per connection from 100 to 1000 must not exceed that from 0 to 100.
  const medians = COUNTS.map((n) => figures[`ws${n}_supervisorMs`]);
  figures.msPerConnection = slope(COUNTS, medians);
  const perConnLow = (medians[1] - medians[0]) / (COUNTS[1] - COUNTS[0]);
  const perConnHigh = (medians[2] - medians[1]) / (COUNTS[2] - COUNTS[1]);
  figures.msPerConnection0to100 = perConnLow;
  figures.msPerConnection100to1000 = perConnHigh;
  // Below a few µs per connection, the 0→100 step is noise: compare against a floor of it.
  const linear = perConnHigh <= Math.max(perConnLow, 0.05) * 1.5;
  rows.push(
    row('growth per connection', `${fmt(perConnHigh * 1000, 'µs')} per conn (100→1000)`, `${fmt(perConnLow * 1000, 'µs')} per conn (0→100)`, 'at most linear', linear),
  );
  return { figures, rows, notes: [`${runs} run(s) per count; idle clients in their own process answer the close handshakes; the fake gateway closes with 1012 at once on SIGTERM`] };
}
