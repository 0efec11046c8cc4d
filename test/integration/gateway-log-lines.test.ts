import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { descendantsOf } from '../helpers/proc.js';
import { CLI, FAKE_GATEWAY, TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const CHATTY = '[ws] ⇄ res ✓ health 3ms conn=ab12 id=1:2';
const PLAIN = '[gateway] hello from the gateway';
const REFUSED =
  '[ws] closed before connect conn=c1 peer=127.0.0.1:5->127.0.0.1:6 remote=127.0.0.1 fwd=10.1.1.1 origin=https://ui.example host=h ua=Mozilla code=1008 reason=pairing required: device is not approved yet (requestId: req-42) phase=auth_validated cause=pairing-required deviceId=dev1 requestId=req-42 reason=not-paired';
const LINES = { FAKE_STDOUT_LINES: `${CHATTY}\n${PLAIN}`, FAKE_STDERR_LINES: `${REFUSED}\n${REFUSED}` };

describe('relayed gateway lines (issue 12 §3) and the pairing notice, with the fake gateway', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(async () => {
    await sup?.kill();
    sup = undefined;
  });

  it('gateway.log records carry msg and the level; per-request chatter only at debug; one gateway.pairing_required (without the gateway pending list: no command from the line)', async () => {
    sup = await startSupervisor({ env: LINES });
    const ready = await sup.waitFor('gateway.ready');
    const plain = sup.records.find((r) => r.event === 'gateway.log' && String(r.msg).endsWith(PLAIN));
    expect(plain).toMatchObject({ level: 'info', stream: 'stdout' });
    expect(plain?.msg).toBe(plain?.['line']);
    expect(sup.records.find((r) => r.event === 'gateway.log' && String(r.msg).endsWith(REFUSED))).toMatchObject({ level: 'warn', stream: 'stderr' });
    expect(sup.records.some((r) => String(r.msg).includes(CHATTY))).toBe(false);

    // The refusal line is only a trigger: its text can be forged (a Host header lands in it), so the
    // record's fields come from the gateway's own pending list. The fake gateway has none to give:
    // one record says so and points to `devices`, and no approve command is made from the line.
    // Asked of the gateway after the line: it may come after ready.
    await sup.waitFor('gateway.pairing_required');
    expect(sup.events('gateway.pairing_required')).toHaveLength(1);
    expect(sup.events('gateway.pairing_required')[0]).toMatchObject({
      level: 'warn',
      requestId: null,
      approveCommand: null,
      listCommand: `node ${CLI} devices`,
    });
    expect(JSON.stringify(sup.events('gateway.pairing_required'))).not.toContain('req-42');

    expect(ready['urls']).toContain(`http://localhost:${sup.port}/`);
    expect(ready['tokenInEffect']).toBe('the token in OPENCLAW_GATEWAY_TOKEN');
    expect(ready.msg).toContain(`open http://localhost:${sup.port}/`);
  });

  it('writes a client\'s C1 and bidi characters in a gateway line as JSON escapes: the same text to a program, inert on a terminal', async () => {
    const hostile = '[ws] closed before connect host=x\u009b2K\u202eevil\u200b ua=\u0085ok';
    sup = await startSupervisor({ env: { FAKE_STDOUT_LINES: hostile } });
    await sup.waitFor('gateway.ready');
    const raw = sup.output.filter((line) => line.includes('closed before connect'));
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toMatch(/[\u0080-\u009f\u202e\u200b]/u);
    expect(raw[0]).toContain('\\u009b2K\\u202eevil\\u200b');
    expect(String((JSON.parse(raw[0]!) as { msg: string }).msg).endsWith(hostile)).toBe(true);
  });

  it('shows the per-request chatter when asked (SUPERVISOR_LOG_LEVEL=debug)', async () => {
    sup = await startSupervisor({ env: { ...LINES, SUPERVISOR_LOG_LEVEL: 'debug' } });
    await sup.waitFor('gateway.ready');
    expect(sup.records.find((r) => r.event === 'gateway.log' && String(r.msg).endsWith(CHATTY))).toMatchObject({ level: 'debug' });
  });

  /** The supervisor on a pseudo-terminal (util-linux script: stdout.isTTY, as in a person's shell) until "gateway ready"; its screen without colours. */
  async function terminalUntilReady(extra: Record<string, string> = {}): Promise<string[]> {
    const port = await freePort();
    const env = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      PORT: String(port),
      SUPERVISOR_GATEWAY_PORT: String(await freePort()),
      OPENCLAW_STATE_DIR: mkdtempSync(join(tmpdir(), 'ocs-tty-')),
      OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN,
      ...LINES,
      ...extra,
    };
    const command = [process.execPath, CLI, '--', process.execPath, FAKE_GATEWAY].join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "gateway ready" on the terminal within 20 s:\n${output}`)), 20_000);
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('gateway ready after')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    } finally {
      for (const { pid } of descendantsOf(child.pid ?? -1)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      child.kill('SIGTERM');
    }
    expect(output).not.toContain(TEST_TOKEN);
    // eslint-disable-next-line no-control-regex
    return output.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/);
  }

  it('on a terminal: the gateway\'s warnings one line each, cut short, a repeat folded into a count; its info lines and the fields not shown', async () => {
    const lines = await terminalUntilReady();
    expect(lines.filter((line) => line.includes('hello from the gateway'))).toEqual([]);
    const refused = lines.filter((line) => line.includes('closed before connect') && !line.includes('… repeated'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: \[gateway\] \[ws\] closed before connect conn=c1 .*…$/);
    expect(lines.filter((line) => /WARN: \[gateway\] \[ws\] closed before connect .* … repeated 1 more time since \d\d:\d\d:\d\d$/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => /^\s+(line|stream|source|event): /.test(line))).toEqual([]);
  });

  it('on a terminal with SUPERVISOR_LOG_FIELDS=1: every gateway line in full, with its level, and the fields of the other records', async () => {
    const lines = await terminalUntilReady({ SUPERVISOR_LOG_FIELDS: '1' });
    const hello = lines.filter((line) => line.includes('hello from the gateway'));
    expect(hello).toHaveLength(1);
    expect(hello[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[gateway\] hello from the gateway$/);
    const refused = lines.filter((line) => line.includes('closed before connect'));
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[gateway\] \[ws\] closed before connect conn=c1 .*reason=not-paired$/);
    // No field lines of gateway.log records (pino-pretty prints `    line: "…"` per field); the other records have theirs.
    expect(lines.filter((line) => /^\s+(line|stream|source): /.test(line))).toEqual([]);
    expect(lines.filter((line) => /^\s+event: "gateway.ready"/.test(line))).toHaveLength(1);
  });
});
