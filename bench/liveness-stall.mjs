// The longest stall of the real gateway's /healthz under legitimate load, to pick the liveness
// thresholds (issue 19). A separate probe process (so the load generator's own pauses do not count)
// GETs the gateway's /healthz on loopback every 250 ms with a fresh socket and records how long each
// answer took; phases: startup (spawn → ready + 20 s), a WebSocket burst (connects + `health` RPCs),
// a large config reload, `openclaw status` and `doctor` in parallel, then all of them at once.
// Usage: node bench/liveness-stall.mjs [runs]   (needs dist/ and .runtime/)
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSession } from '../test/helpers/gateway-client.mjs';
import { ROOT, RUNTIME_NODE, startSupervisor } from './lib/supervisor.mjs';

const OPENCLAW = join(ROOT, '.runtime', 'openclaw', 'node_modules', 'openclaw', 'openclaw.mjs');
const PROBE = `
const http = require('node:http');
const port = Number(process.argv[1]);
const tick = () => {
  const sent = Date.now();
  const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 300000 }, (res) => {
    res.resume();
    res.on('end', () => { console.log(JSON.stringify({ sent, ms: Date.now() - sent, status: res.statusCode })); setTimeout(tick, 250); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { console.log(JSON.stringify({ sent, ms: Date.now() - sent, error: e.code ?? e.message })); setTimeout(tick, 250); });
};
tick();`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function wsBurst(port, token, sessions, rpcs) {
  const one = async () => {
    try {
      const s = await openSession(`ws://127.0.0.1:${port}/`, token, { timeoutMs: 60_000 });
      for (let i = 0; i < rpcs; i++) await s.call('health');
      s.ws.close();
    } catch {
      // counted by the probe, not here
    }
  };
  await Promise.all(Array.from({ length: sessions }, one));
}

function cli(args, env) {
  return new Promise((resolve) => {
    // Its own group: the CLI re-executes itself, and a child left behind would load the next phase.
    const child = spawn(RUNTIME_NODE, [OPENCLAW, ...args], { env, stdio: 'ignore', detached: true });
    // The CLI re-executes itself into a session of its own (\`openclaw-doctor\` outlives a group
    // kill): every process that carries this run's marker goes.
    const killGroup = () => {
      for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
        try {
          if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`LIVENESS_BENCH_CLI=${env.LIVENESS_BENCH_CLI}`)) process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone, or not ours to read
        }
      }
    };
    const timer = setTimeout(killGroup, 120_000);
    child.once('exit', () => {
      clearTimeout(timer);
      killGroup();
      resolve();
    });
  });
}

async function largeReload(stateDir) {
  const path = join(stateDir, 'openclaw.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  // A multi-agent roster needs the explicit-ownership marker, or the reload is skipped as invalid.
  // LIVENESS_BENCH_OWNERSHIP=0 writes the roster without it: the gateway skips that reload, and
  // \`openclaw doctor\` later adds the marker (a reload it triggers).
  const ownership = process.env.LIVENESS_BENCH_OWNERSHIP === '0' ? {} : { ownership: 'explicit' };
  config.agents = { ...(config.agents ?? {}), ...ownership, list: Array.from({ length: 300 }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}`, workspace: join(stateDir, `ws-${i}`) })) };
  config.messages = { ...(config.messages ?? {}), ackReaction: 'eyes' };
  writeFileSync(path, JSON.stringify(config, null, 2));
  await sleep(15_000);
}

async function oneRun() {
  const sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '180000' } });
  const samples = [];
  const probe = spawn(process.execPath, ['-e', PROBE, String(sup.gatewayPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  probe.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      samples.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  const phases = [];
  const phase = async (name, work) => {
    if (only && !only.some((word) => name.includes(word))) return;
    const from = Date.now();
    await work();
    phases.push({ name, from, to: Date.now() });
  };
  const env = { PATH: `${join(RUNTIME_NODE, '..')}:${process.env.PATH}`, HOME: process.env.HOME, OPENCLAW_STATE_DIR: sup.stateDir, OPENCLAW_CONFIG_PATH: join(sup.stateDir, 'openclaw.json'), OPENCLAW_GATEWAY_PORT: String(sup.gatewayPort), OPENCLAW_GATEWAY_TOKEN: sup.token, LIVENESS_BENCH_CLI: `${process.pid}-${sup.gatewayPort}` };
  try {
    await phase('startup (spawn → ready + 20 s)', async () => {
      await sup.waitFor('gateway.ready', undefined, 180_000);
      await sleep(20_000);
    });
    await phase('ws burst (3 × 100 connects, 5 health RPCs each)', async () => {
      for (let i = 0; i < 3; i++) await wsBurst(sup.gatewayPort, sup.token, 100, 5);
    });
    await phase('large config reload (300 agents)', () => largeReload(sup.stateDir));
    await phase('openclaw status ×2 + doctor ×2 in parallel', () => Promise.all([cli(['status'], env), cli(['status', '--deep'], env), cli(['doctor', '--non-interactive'], env), cli(['doctor', '--non-interactive'], env)]));
    await phase('all at once', () => Promise.all([wsBurst(sup.gatewayPort, sup.token, 100, 5), cli(['status'], env), cli(['doctor', '--non-interactive'], env)]));
  } finally {
    probe.kill();
  }
  const restarts = sup.events('gateway.spawned').length - 1;
  const report = phases.map((p) => {
    const inPhase = samples.filter((s) => s.sent >= p.from - 250 && s.sent <= p.to);
    const answered = inPhase.filter((s) => s.status !== undefined);
    const slow = inPhase.filter((s) => s.error || s.ms > 1_000).map((s) => ({ atS: Math.round((s.sent - p.from) / 100) / 10, ms: s.ms, error: s.error }));
    return { phase: p.name, slow, probes: inPhase.length, errors: inPhase.filter((s) => s.error).map((s) => s.error).slice(0, 5), maxMs: Math.max(0, ...answered.map((s) => s.ms)), p99Ms: answered.map((s) => s.ms).sort((a, b) => a - b)[Math.floor(answered.length * 0.99)] ?? null };
  });
  const gatewayLines = sup.records.filter((e) => e.record.event === 'gateway.log' && /reload|restart|slow|blocked|lag|invalid|agent/i.test(e.record.line)).map((e) => `${Math.round((e.at - (phases[0]?.from ?? 0)) / 100) / 10}s ${e.record.line.slice(0, 160)}`);
  await sup.stop().catch(() => undefined);
  return { report, restarts, load: (await import('node:os')).loadavg(), gatewayLines: gatewayLines.slice(0, 40) };
}

const only = process.env.PHASES ? process.env.PHASES.split(',') : null;
const runs = Number(process.argv[2] ?? 1);
for (let i = 0; i < runs; i++) console.log(JSON.stringify(await oneRun()));
