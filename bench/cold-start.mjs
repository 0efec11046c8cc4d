// 6. Cold start: from spawning `node dist/cli.js` to its public port accepting (before the gateway
// exists) and to the gateway being spawned. Reference, side by side in each run: `node -e ''`,
// the cost of starting Node at all on this machine.
import { accepts } from './lib/ports.mjs';
import { now, sleep, start } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { fmt, median, medianDiff } from './lib/stats.mjs';
import { SUPERVISOR_NODE, recordTime, startSupervisor } from './lib/supervisor.mjs';

export const id = 'coldstart';
export const title = '6. Cold start';

const GOAL_MS = 150;

/** Connect attempts every ~1 ms until one is accepted: the port's opening as a client sees it. */
async function firstAccept(port, deadline) {
  while (now() < deadline) {
    if (await accepts(port)) return now();
    await sleep(1);
  }
  return Number.NaN;
}

async function nodeBare() {
  // The same Node as the supervisor's: the floor it starts from.
  const proc = start(SUPERVISOR_NODE, ['-e', '']);
  const exit = await proc.exited;
  return exit.at - proc.startedAt;
}

export async function run({ smoke, log }) {
  const runs = smoke ? 2 : 10;
  const list = [];
  for (let r = 0; r < runs; r++) {
    const bare = await nodeBare();
    const sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
    try {
      const t0 = sup.startedAt;
      const acceptedAt = await firstAccept(sup.port, t0 + 10_000);
      const listening = await sup.waitFor('supervisor.listening');
      const starting = await sup.waitFor('supervisor.starting');
      const spawned = await sup.waitFor('gateway.spawned');
      list.push({
        bare,
        portMs: acceptedAt - t0,
        listeningRecordMs: recordTime(listening.record) - t0,
        // Node's own start plus module loading: from spawn to the first line of runSupervisor.
        bootMs: recordTime(starting.record) - t0,
        // runSupervisor's own work until listening, as it reports it.
        ownInitMs: listening.record.sinceStartMs,
        spawnedMs: recordTime(spawned.record) - t0,
      });
      const x = list.at(-1);
      log(`cold start run ${r + 1}/${runs}: port ${fmt(x.portMs, 'ms')}, boot ${fmt(x.bootMs, 'ms')} + init ${fmt(x.ownInitMs, 'ms')}, gateway spawned ${fmt(x.spawnedMs, 'ms')}; node -e '' ${fmt(bare, 'ms')}`);
    } finally {
      await sup.stop('SIGKILL', 1000);
    }
  }
  const pick = (key) => list.map((x) => x[key]);
  const figures = {
    toListeningMs: median(pick('portMs')),
    toListeningRecordMs: median(pick('listeningRecordMs')),
    bootAndImportsMs: median(pick('bootMs')),
    ownInitMs: median(pick('ownInitMs')),
    toGatewaySpawnedMs: median(pick('spawnedMs')),
    nodeBareMs: median(pick('bare')),
    overNodeBareMs: medianDiff(pick('portMs'), pick('bare')),
  };
  const rows = [
    row(
      'spawn → public port accepting',
      fmt(figures.toListeningMs, 'ms'),
      `node -e '' ${fmt(figures.nodeBareMs, 'ms')} (+${fmt(figures.overNodeBareMs, 'ms')}); boot + imports ${fmt(figures.bootAndImportsMs, 'ms')}, own init ${fmt(figures.ownInitMs, 'ms')}`,
      `< ${GOAL_MS} ms`,
      figures.toListeningMs < GOAL_MS,
    ),
    row('spawn → gateway spawned', fmt(figures.toGatewaySpawnedMs, 'ms'), `supervisor.listening record at ${fmt(figures.toListeningRecordMs, 'ms')}`),
  ];
  return { figures, rows, notes: [`${runs} run(s); port polled by connect attempts every ~1 ms; record times are pino's (ms resolution) against the bench's spawn instant`] };
}
