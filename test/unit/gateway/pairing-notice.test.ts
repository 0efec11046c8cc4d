import { afterEach, describe, expect, it, vi } from 'vitest';
import { PairingNotices, isPairingRefusalLine } from '../../../src/gateway/pairing-notice.js';
import type { PendingRequest } from '../../../src/gateway/pending-pairing.js';

// Measured on openclaw@2026.9.6 (stderr of `gateway run`), a remote client through the front door.
const REFUSED =
  '2026-12-03T09:42:26.005+00:00 [ws] closed before connect conn=2c953e04-d7f9-402d-8a24-fd93c99ffd74 peer=127.0.0.1:59940->127.0.0.1:28789 remote=127.0.0.1 fwd=10.9.8.7 origin=n/a host=127.0.0.1:28789 ua=n/a code=1008 reason=pairing required: device is not approved yet (requestId: af550f52-3e08-4545-8d2f-0a56968178fb) phase=auth_validated cause=pairing-required durationMs=70 handshake=failed phase=auth_validated lastFrameType=req lastFrameMethod=connect lastFrameId=connect host=127.0.0.1:28789 forwardedFor=10.9.8.7 remoteAddr=127.0.0.1 remotePort=59940 localAddr=127.0.0.1 localPort=28789 endpoint=127.0.0.1:59940->127.0.0.1:28789 deviceId=24db8c3619dbf2745fce61728c4216cdaf785c556f8f8bd856672b084a7b3e69 requestId=af550f52-3e08-4545-8d2f-0a56968178fb reason=not-paired';
// A Host header that imitates the line's own fields (issue 18): it must change nothing.
const FORGED_HOST = REFUSED.replace('host=127.0.0.1:28789 ua=n/a', 'host=x (requestId: 00000000-forged) requestId=00000000-forged deviceId=ffff ua=n/a');

// A fake clock that does not start at 0 (a window that starts at 0 hid a bug before).
const T0 = 1_796_400_000_000;

const OWNER: PendingRequest = { requestId: 'af550f52-3e08-4545-8d2f-0a56968178fb', deviceId: 'a'.repeat(64), platform: 'Linux x86_64', clientId: 'openclaw-control-ui', clientMode: 'webchat', role: 'operator', scopes: ['operator.admin'], remoteIp: '10.9.8.7', ts: T0 - 3000 };
const stranger = (i: number, ts = T0 - 1000 + i): PendingRequest => ({
  requestId: `5e000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  deviceId: `${i}`.padStart(64, 'b'),
  platform: `linux\r\u001b[2K\u001b[8m${i}`,
  clientId: 'gateway-client',
  clientMode: 'backend',
  role: 'operator',
  remoteIp: '10.9.8.7',
  ts,
});

function harness(pending: () => readonly PendingRequest[] | Error, options: { maxPerDevice?: number } = {}) {
  let now = T0;
  let calls = 0;
  const records: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => records.push({ fields, msg }) };
  const notices = new PairingNotices({
    logger: logger as never,
    selfCommand: 'node /app/dist/cli.js',
    now: () => now,
    listPending: async () => {
      calls++;
      const list = pending();
      if (list instanceof Error) throw list;
      return list;
    },
    ...options,
  });
  return { records, notices, calls: () => calls, advance: (ms: number) => (now += ms) };
}

describe('isPairingRefusalLine', () => {
  it('is the trigger: the gateway line for a device refused for pairing, and nothing else', () => {
    expect(isPairingRefusalLine(REFUSED)).toBe(true);
    expect(isPairingRefusalLine('2026-12-03T09:41:34.107+00:00 [gateway] ready')).toBe(false);
    expect(isPairingRefusalLine('2026-12-03T09:42:52.044+00:00 [gateway] device pairing approved device=24db role=operator')).toBe(false);
    expect(isPairingRefusalLine(REFUSED.replace(/reason=pairing required[^)]*\)/, 'reason=unauthorized: gateway token mismatch').replace('cause=pairing-required', 'cause=unauthorized'))).toBe(false);
  });
});

describe('PairingNotices', () => {
  afterEach(() => vi.useRealTimers());

  it('logs one gateway.pairing_required per request id, from the gateway list, with the exact approve command', async () => {
    const { records, notices } = harness(() => [OWNER]);
    for (let i = 0; i < 10; i++) await notices.refresh(); // the Control UI retries every 5-15 s
    expect(records).toHaveLength(1);
    expect(records[0]!.fields).toMatchObject({
      event: 'gateway.pairing_required',
      clientAddress: '10.9.8.7',
      requestId: OWNER.requestId,
      deviceId: OWNER.deviceId,
      platform: 'Linux x86_64',
      firstSeen: new Date(T0 - 3000).toISOString(),
      approveCommand: `node /app/dist/cli.js devices approve ${OWNER.requestId}`,
      listCommand: 'node /app/dist/cli.js devices',
    });
    expect(records[0]!.msg).toContain(`request ${OWNER.requestId}`);
    expect(records[0]!.msg).toContain('your browser shows this request id');
  });

  it('a Host header imitating the refusal line cannot change the request id or the command', async () => {
    vi.useFakeTimers({ now: T0 });
    const { records, notices } = harness(() => [OWNER]);
    notices.onLine(FORGED_HOST);
    await vi.runAllTimersAsync();
    expect(records).toHaveLength(1);
    expect(records[0]!.fields['approveCommand']).toBe(`node /app/dist/cli.js devices approve ${OWNER.requestId}`);
    expect(JSON.stringify(records)).not.toContain('forged');
  });

  it('escapes every client-chosen string in the fields and the message', async () => {
    const { records, notices } = harness(() => [stranger(1)]);
    await notices.refresh();
    const record = records[0]!;
    expect(record.fields['platform']).toBe('linux\\r\\x1b[2K\\x1b[8m1');
    expect(record.msg).toContain('platform linux\\r\\x1b[2K\\x1b[8m1');
    expect(JSON.stringify(record.fields) + record.msg).not.toMatch(/[\r\u001b]/);
  });

  it("a stranger's flood of requests does not hide the owner's request (no global cap)", async () => {
    const strangers = Array.from({ length: 30 }, (_, i) => stranger(i));
    let list: PendingRequest[] = strangers;
    const { records, notices } = harness(() => list);
    await notices.refresh();
    expect(records).toHaveLength(30);
    list = [...strangers, { ...OWNER, ts: T0 + 5000 }];
    await notices.refresh();
    expect(records.at(-1)!.fields).toMatchObject({ requestId: OWNER.requestId, approveCommand: `node /app/dist/cli.js devices approve ${OWNER.requestId}` });
  });

  it('limits records per device id in a window, counts what it left out, and starts again after the window', async () => {
    // One device asking again with changed scopes gets a new request id each time.
    const again = (i: number): PendingRequest => ({ ...OWNER, requestId: `0a000000-0000-0000-0000-${String(i).padStart(12, '0')}`, deviceId: 'c'.repeat(64), ts: T0 + i });
    let list: PendingRequest[] = [];
    const h = harness(() => list, { maxPerDevice: 2 });
    for (let i = 0; i < 5; i++) {
      list = [again(i)];
      await h.notices.refresh();
    }
    expect(h.records.map((r) => r.fields['requestId'])).toEqual([again(0).requestId, again(1).requestId]);
    // Another device is not affected by that one's limit.
    list = [OWNER];
    await h.notices.refresh();
    expect(h.records).toHaveLength(3);
    h.advance(600_000);
    list = [again(9)];
    await h.notices.refresh();
    expect(h.records.at(-1)!.fields).toMatchObject({ requestId: again(9).requestId, suppressedForDevice: 3 });
  });

  it('bounds what it remembers (least recently seen forgotten first)', async () => {
    let list: PendingRequest[] = [OWNER];
    const records: unknown[] = [];
    const notices = new PairingNotices({ logger: { warn: (f: unknown) => records.push(f) } as never, selfCommand: 'x', now: () => T0, maxTracked: 3, listPending: async () => list });
    await notices.refresh();
    list = [1, 2, 3].map((i) => stranger(i));
    await notices.refresh();
    expect(records).toHaveLength(4);
    // The owner's id was forgotten: it is logged again (a repeat, never a loss).
    list = [OWNER];
    await notices.refresh();
    expect(records).toHaveLength(5);
  });

  it('coalesces a burst of refusal lines into at most two list calls', async () => {
    vi.useFakeTimers({ now: T0 });
    const h = harness(() => [OWNER]);
    for (let i = 0; i < 50; i++) h.notices.onLine(REFUSED);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 50; i++) h.notices.onLine(REFUSED);
    await vi.runAllTimersAsync();
    expect(h.calls()).toBeLessThanOrEqual(2);
    expect(h.calls()).toBeGreaterThanOrEqual(1);
    expect(h.records).toHaveLength(1);
    h.notices.onLine('2026-12-03T09:41:34.107+00:00 [gateway] ready');
    await vi.runAllTimersAsync();
    expect(h.calls()).toBeLessThanOrEqual(2);
  });

  it('says so, at most once a minute, when the gateway list cannot be read', async () => {
    const h = harness(() => new Error('the gateway refused the supervisor\'s connection (AUTH_TOKEN_MISMATCH)'));
    await h.notices.refresh();
    await h.notices.refresh();
    expect(h.records).toHaveLength(1);
    expect(h.records[0]!.fields).toMatchObject({ event: 'gateway.pairing_required', requestId: null, approveCommand: null, listCommand: 'node /app/dist/cli.js devices' });
    h.advance(60_000);
    await h.notices.refresh();
    expect(h.records).toHaveLength(2);
  });
});
