import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { GATEWAY_LINE_MAX, calmLine, repeatedLine } from '../../../src/log/terminal.js';

beforeAll(() => {
  process.env['TZ'] = 'UTC';
});
afterEach(() => vi.restoreAllMocks());

const TIME = '2026-12-03T09:42:26.010Z';
const rec = (level: string, fields: Record<string, unknown>): Record<string, unknown> => ({ level, time: TIME, pid: 7, ...fields });
const REFUSAL =
  '2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=2c953e04 peer=127.0.0.1:59940->127.0.0.1:28789 remote=127.0.0.1 fwd=10.9.8.7 origin=n/a host=127.0.0.1:28789 ua=n/a code=1008 reason=pairing required: device is not approved yet (requestId: af550f52) phase=auth_validated cause=pairing-required durationMs=70 handshake=failed';

describe('calmLine', () => {
  it.each<[string, Record<string, unknown>, string | null]>([
    ['a milestone: time, level, message, no fields', rec('info', { event: 'gateway.ready', urls: ['http://localhost:8080/'], msg: 'gateway ready after 5 ms: open http://localhost:8080/' }), '[09:42:26] INFO: gateway ready after 5 ms: open http://localhost:8080/'],
    ['a record without an event', rec('info', { msg: 'hello' }), '[09:42:26] INFO: hello'],
    ['a detail at info is not shown', rec('info', { event: 'supervisor.exposure', public: true, msg: 'gateway public on [::]:8080 …' }), null],
    ['the same detail as a warning is', rec('warn', { event: 'supervisor.exposure', msg: 'gateway public: no token' }), '[09:42:26] WARN: gateway public: no token'],
    ['a requested gateway exit is a detail', rec('info', { event: 'gateway.exited', outcome: 'requested-stop', msg: 'gateway exited (exit code 0, requested-stop)' }), null],
    ['a crash is not', rec('error', { event: 'gateway.exited', outcome: 'crashed', msg: 'gateway exited (exit code 1, crashed)' }), '[09:42:26] ERROR: gateway exited (exit code 1, crashed)'],
    ["the gateway's info lines are details", rec('info', { event: 'gateway.log', line: '2026-12-03T09:41:34.107+00:00 [gateway] ready', msg: '…' }), null],
    ["the gateway's warnings are shown, tagged, without their second timestamp", rec('warn', { event: 'gateway.log', line: '2026-12-03T09:42:26.005+00:00 [agents] sweep skipped', msg: '…' }), '[09:42:26] WARN: [gateway] [agents] sweep skipped'],
    ['a tail: the drain time', rec('info', { event: 'supervisor.drain_finished', durationMs: 264, deadlineHit: false, msg: 'drained' }), '[09:42:26] INFO: drained (in 264 ms)'],
    ["a tail: an error's message the record's message does not say", rec('error', { event: 'supervisor.internal_error', err: { message: 'EACCES x', stack: '…' }, msg: 'internal error' }), '[09:42:26] ERROR: internal error (EACCES x)'],
    ['client-chosen text in a message is escaped', rec('warn', { event: 'gateway.pairing_required', msg: 'from platform linux\r\u001b[2K\u202eevil' }), '[09:42:26] WARN: from platform linux\\r\\x1b[2K\\u202eevil'],
  ])('%s', (_name, record, expected) => {
    expect(calmLine(record, false)?.text ?? null).toBe(expected);
  });

  it("cuts a long gateway line (the pairing refusal is ~1,100 characters) and escapes a client's text in it", () => {
    const shown = calmLine(rec('warn', { event: 'gateway.log', line: `${REFUSAL} ua=\u001b[2Kevil${'x'.repeat(900)}` }), false)!;
    expect(shown.text).toMatch(/^\[09:42:26\] WARN: \[gateway\] \[ws\] closed before connect conn=2c953e04 /);
    expect(shown.text.length).toBeLessThan(GATEWAY_LINE_MAX + 30);
    expect(shown.text.endsWith('…')).toBe(true);
    expect(shown.kind).not.toBeNull();
    expect(calmLine(rec('warn', { event: 'gateway.log', line: '[x] \u001b[2Kevil' }), false)!.text).toContain('\\x1b[2Kevil');
  });

  it('colours only the level', () => {
    expect(calmLine(rec('warn', { msg: 'm' }), true)!.text).toBe('[09:42:26] \u001b[33mWARN\u001b[39m\u001b[49m: m');
  });

  it('a fold report: its time, the line it counts (short), the count and since when', () => {
    const line = repeatedLine({ type: 'repeated', sample: `WARN: [gateway] [ws] closed before connect ${'y'.repeat(200)}`, count: 7, since: Date.parse(TIME) }, Date.parse(TIME) + 60_000);
    expect(line).toMatch(/^\[09:43:26\] WARN: \[gateway\] \[ws\] closed before connect y+… … repeated 7 more times since 09:42:26$/);
    expect(line.length).toBeLessThan(160);
  });
});

describe('createLogger on a terminal', () => {
  function capture(): string[] {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    return out;
  }

  it('calm by default: one line per record that matters, repeated gateway warnings folded into a count', async () => {
    const out = capture();
    const log = await createLogger('info', true);
    log.logger.info({ event: 'supervisor.starting', version: '1', restart: { factor: 2 } }, 'starting');
    log.logger.info({ event: 'supervisor.listening', port: 1 }, 'listening');
    for (let i = 0; i < 5; i++) log.logger.warn({ event: 'gateway.log', source: 'gateway', stream: 'stderr', line: REFUSAL.replace('conn=2c953e04', `conn=${i}`) }, REFUSAL);
    log.logger.info({ event: 'gateway.ready', urls: ['http://localhost:1/'] }, 'gateway ready');
    log.flush();
    const lines = out.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/INFO.*: starting$/);
    expect(lines[1]).toContain('closed before connect conn=0 ');
    expect(lines[2]).toMatch(/closed before connect .* … repeated 4 more times since \d\d:\d\d:\d\d$/);
    expect(lines[3]).toMatch(/: gateway ready$/);
  });

  it.each<[string, 'info' | 'debug', boolean]>([
    ['SUPERVISOR_LOG_FIELDS', 'info', true],
    ['the debug level', 'debug', false],
  ])('every field and every line with %s', async (_name, level, fields) => {
    const out = capture();
    const log = await createLogger(level, true, { fields });
    log.logger.info({ event: 'supervisor.listening', port: 4321 }, 'listening');
    log.logger.info({ event: 'gateway.log', line: '[gateway] hello' }, '[gateway] hello');
    log.flush();
    // eslint-disable-next-line no-control-regex
    const text = out.join('').replace(/\u001b\[[0-9;]*m/g, '');
    expect(text).toContain('port: 4321');
    expect(text).toContain('[gateway] hello');
  });
});
