import { describe, expect, it } from 'vitest';
import { gatewayLineLevel } from '../../../src/gateway/spawn-gateway.js';
import { escapeRecordStrings, prettyGatewayLine } from '../../../src/log/pretty.js';

describe('prettyGatewayLine', () => {
  const record = { level: 'warn', time: '2026-12-03T09:42:26.010Z', pid: 7, event: 'gateway.log', source: 'gateway', stream: 'stderr', line: '2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=1 code=1008', msg: '2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=1 code=1008' };

  it('is one line with the level and the gateway tag, without the second timestamp', () => {
    process.env['TZ'] = 'UTC';
    expect(prettyGatewayLine(record, false)).toBe('[09:42:26.010] WARN: [gateway] [ws] closed before connect conn=1 code=1008\n');
    expect(prettyGatewayLine({ ...record, level: 'info', line: '2026-12-03T09:41:34.107+00:00 [gateway] ready' }, false)).toBe('[09:42:26.010] INFO: [gateway] ready\n');
    expect(prettyGatewayLine(record, true)).toContain('\u001b[33mWARN');
  });

  it('shows client-chosen text in a gateway line escaped (a terminal would act on it)', () => {
    const line = prettyGatewayLine({ ...record, line: '[ws] closed before connect host=x\r\u001b[2K ua=\u202eevil' }, false)!;
    expect(line).toContain('host=x\\r\\x1b[2K ua=\\u202eevil');
    expect(line.slice(0, -1)).not.toMatch(/[\r\n\u001b\u202e]/);
  });

  it('escapeRecordStrings escapes every string of a record for pino-pretty, nested too, unbounded', () => {
    const long = 'y'.repeat(500);
    expect(escapeRecordStrings({ msg: 'a\u001b[8mb', n: 1, nested: { list: ['\r', long] } })).toEqual({ msg: 'a\\x1b[8mb', n: 1, nested: { list: ['\\r', long] } });
    expect(escapeRecordStrings({ err: { stack: 'Error: x\u001b[2K\n    at f (a.js:1)' } })).toEqual({ err: { stack: 'Error: x\\x1b[2K\n    at f (a.js:1)' } });
  });

  it('leaves every other record to pino-pretty', () => {
    expect(prettyGatewayLine({ ...record, event: 'gateway.ready' }, false)).toBeNull();
  });
});

describe('gatewayLineLevel', () => {
  it.each([
    ['2026-12-03T09:41:47.557+00:00 [ws] ⇄ res ✓ device.pair.list 57ms conn=6d8c42a6…3517 id=2:7550eecf-e…b788', 'stdout', 'debug'],
    ['2026-12-03T09:41:47.557+00:00 [ws] → event health conn=6d8c', 'stdout', 'debug'],
    ['2026-12-03T09:41:47.557+00:00 [ws] ⇄ res ✗ config.set 12ms conn=6d8c', 'stdout', 'info'],
    ['2026-12-03T09:41:34.107+00:00 [gateway] ready', 'stdout', 'info'],
    ['2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=2c95 code=1008', 'stderr', 'warn'],
  ] as const)('%s (%s) → %s', (line, stream, level) => {
    expect(gatewayLineLevel(line, stream)).toBe(level);
  });
});
