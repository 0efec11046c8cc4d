import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil, readProcStrings } from '../helpers/proc.js';
import { pidOf } from '../helpers/records.js';
import { TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const REDACTED = '[REDACTED]';

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

/** The gateway's environment as NAME → value. */
function environOf(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of readProcStrings(pid, 'environ')) {
    const at = entry.indexOf('=');
    env.set(at === -1 ? entry : entry.slice(0, at), at === -1 ? '' : entry.slice(at + 1));
  }
  return env;
}

describe('the gateway token', () => {
  it('never appears in the output, though the gateway prints it on stdout and stderr', async () => {
    sup = await startSupervisor({ env: { FAKE_PRINT_TOKEN: '1' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const printed = await sup.waitFor('gateway.log', (r) => r['stream'] === 'stdout' && String(r['line']).includes('auth token is'), 5_000);
    expect(printed['line']).toContain(`auth token is ${REDACTED}`);
    const debug = await sup.waitFor('gateway.log', (r) => r['stream'] === 'stderr' && String(r['line']).includes('debug: token='), 5_000);
    expect(debug['line']).toBe(`debug: token=${REDACTED}`);

    // Handed over in the environment, never on a command line.
    expect(readProcStrings(pid, 'cmdline').join(' ')).not.toContain(TEST_TOKEN);
    expect(readProcStrings(sup.process.pid!, 'cmdline').join(' ')).not.toContain(TEST_TOKEN);
    const env = environOf(pid);
    expect(env.get('OPENCLAW_GATEWAY_TOKEN')).toBe(TEST_TOKEN);
    expect(env.get('OPENCLAW_SUPERVISOR_MODE')).toBe('external');
    // Supervisor-only settings stay out (the harness sets several, e.g. SUPERVISOR_GATEWAY_PORT).
    expect(environOf(sup.process.pid!).has('SUPERVISOR_GATEWAY_PORT')).toBe(true);
    expect([...env.keys()].filter((name) => name.startsWith('SUPERVISOR_'))).toEqual([]);

    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.output.length).toBeGreaterThan(5);
    expect(sup.output.filter((line) => line.includes(TEST_TOKEN))).toEqual([]);
    expect(sup.output.some((line) => line.includes(REDACTED))).toBe(true);
  });

  it('is generated into the state dir (mode 0600) when none is set; the log names the file, never the token', async () => {
    sup = await startSupervisor({ env: { OPENCLAW_GATEWAY_TOKEN: undefined } });
    const starting = await sup.waitFor('supervisor.starting', undefined, 10_000);
    const tokenFile = join(sup.stateDir, 'gateway-token');
    expect(starting).toMatchObject({ tokenOrigin: 'generated', tokenFile });
    expect(String(starting['msg'])).toContain(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);

    // The gateway runs with exactly that token.
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    expect(environOf(pid).get('OPENCLAW_GATEWAY_TOKEN')).toBe(token);
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.output.filter((line) => line.includes(token))).toEqual([]);

    // The next start keeps it.
    const stateDir = sup.stateDir;
    sup = await startSupervisor({ env: { OPENCLAW_GATEWAY_TOKEN: undefined, OPENCLAW_STATE_DIR: stateDir } });
    expect(await sup.waitFor('supervisor.starting', undefined, 10_000)).toMatchObject({ tokenOrigin: 'stored', tokenFile });
    const again = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    expect(environOf(again).get('OPENCLAW_GATEWAY_TOKEN')).toBe(token);
    expect(sup.output.filter((line) => line.includes(token))).toEqual([]);
  });
});

describe('gateway output relay', () => {
  it('relays every line of a 20000-line burst as a gateway.log record, in order', async () => {
    const total = 20_000;
    sup = await startSupervisor({ env: { FAKE_BURST_LINES: String(total) } });
    await sup.waitFor('gateway.spawned', undefined, 10_000);
    // Polled rather than waitFor: waitFor rescans every record on every line, quadratic for a burst.
    const last = `burst line ${total - 1}`;
    const running = sup;
    const relayed = await pollUntil(() => running.records.some((r) => r.event === 'gateway.log' && String(r['line']).endsWith(last)), 20_000, 100);
    expect(relayed).toBe(true);
    await sup.waitFor('gateway.ready', undefined, 10_000);

    const numbers: number[] = [];
    for (const record of sup.events('gateway.log')) {
      const match = / burst line (\d+)$/.exec(String(record['line']));
      if (match) {
        expect(record).toMatchObject({ stream: 'stdout', source: 'gateway' });
        numbers.push(Number(match[1]));
      }
    }
    expect(numbers).toHaveLength(total);
    const outOfPlace = numbers.findIndex((n, i) => n !== i);
    expect(outOfPlace).toBe(-1);
  });
});
