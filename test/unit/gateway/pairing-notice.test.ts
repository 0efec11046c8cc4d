import { describe, expect, it } from 'vitest';
import { PairingNotices, parsePairingRefusal } from '../../../src/gateway/pairing-notice.js';

// Measured on openclaw@2026.9.6 (stderr of `gateway run`), a remote client through the front door.
const REFUSED =
  '2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=2c953e04-d7f9-402d-8a24-fd93c99ffd74 peer=127.0.0.1:59940->127.0.0.1:28789 remote=127.0.0.1 fwd=10.9.8.7 origin=n/a host=127.0.0.1:28789 ua=n/a code=1008 reason=pairing required: device is not approved yet (requestId: af550f52-3e08-4545-8d2f-0a56968178fb) phase=auth_validated cause=pairing-required durationMs=70 handshake=failed phase=auth_validated lastFrameType=req lastFrameMethod=connect lastFrameId=connect host=127.0.0.1:28789 forwardedFor=10.9.8.7 remoteAddr=127.0.0.1 remotePort=59940 localAddr=127.0.0.1 localPort=28789 endpoint=127.0.0.1:59940->127.0.0.1:28789 deviceId=24db8c3619dbf2745fce61728c4216cdaf785c556f8f8bd856672b084a7b3e69 requestId=af550f52-3e08-4545-8d2f-0a56968178fb reason=not-paired';
const withId = (id: string, address = '10.9.8.7'): string => REFUSED.replaceAll('af550f52-3e08-4545-8d2f-0a56968178fb', id).replaceAll('10.9.8.7', address);

describe('parsePairingRefusal', () => {
  it('reads the client address, request id, device and reason from the gateway line', () => {
    expect(parsePairingRefusal(REFUSED)).toEqual({
      clientAddress: '10.9.8.7',
      requestId: 'af550f52-3e08-4545-8d2f-0a56968178fb',
      deviceId: '24db8c3619dbf2745fce61728c4216cdaf785c556f8f8bd856672b084a7b3e69',
      reason: 'not-paired',
      origin: null,
      userAgent: null,
    });
  });

  it('takes the first address of a forwarded chain, and the peer when nothing was forwarded', () => {
    expect(parsePairingRefusal(REFUSED.replace('fwd=10.9.8.7', 'fwd=203.0.113.9,10.0.0.2'))?.clientAddress).toBe('203.0.113.9');
    expect(parsePairingRefusal(REFUSED.replace('fwd=10.9.8.7', 'fwd=n/a'))?.clientAddress).toBe('127.0.0.1');
  });

  it.each([
    '2026-12-03T09:41:34.107+00:00 [gateway] ready',
    '2026-12-03T09:42:52.044+00:00 [gateway] device pairing approved device=24db role=operator',
    REFUSED.replace(/reason=pairing required[^)]*\)/, 'reason=unauthorized: gateway token mismatch').replace('cause=pairing-required', 'cause=unauthorized'),
  ])('ignores other lines: %s', (line) => {
    expect(parsePairingRefusal(line)).toBeNull();
  });
});

function collect(now: () => number, maxPerWindow = 5) {
  const records: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => records.push({ fields, msg }) };
  const notices = new PairingNotices({ logger: logger as never, selfCommand: 'node /app/dist/cli.js', now, maxPerWindow, windowMs: 60_000 });
  return { records, notices };
}

describe('PairingNotices', () => {
  it('logs one gateway.pairing_required per request id with the exact approve command', () => {
    const { records, notices } = collect(() => 1000);
    for (let i = 0; i < 10; i++) notices.onLine(REFUSED); // the Control UI retries every 1-4 s
    notices.onLine('[gateway] ready');
    expect(records).toHaveLength(1);
    expect(records[0]!.fields).toMatchObject({
      event: 'gateway.pairing_required',
      clientAddress: '10.9.8.7',
      requestId: 'af550f52-3e08-4545-8d2f-0a56968178fb',
      approveCommand: 'node /app/dist/cli.js devices approve af550f52-3e08-4545-8d2f-0a56968178fb',
      listCommand: 'node /app/dist/cli.js devices',
    });
    expect(records[0]!.msg).toContain('10.9.8.7');
    expect(records[0]!.msg).toContain('node /app/dist/cli.js devices approve af550f52-3e08-4545-8d2f-0a56968178fb');
  });

  it('rate-limits a flood of new request ids and counts what it left out', () => {
    let now = 0;
    const { records, notices } = collect(() => now, 3);
    for (let i = 0; i < 20; i++) notices.onLine(withId(`req-${i}`, `10.0.0.${i}`));
    expect(records).toHaveLength(3);
    now = 60_000;
    notices.onLine(withId('req-late'));
    expect(records).toHaveLength(4);
    expect(records[3]!.fields).toMatchObject({ requestId: 'req-late', suppressedSinceLast: 17 });
    // A request left out during the flood is logged when it comes back after the window.
    notices.onLine(withId('req-10'));
    expect(records.at(-1)!.fields).toMatchObject({ requestId: 'req-10' });
  });
});
