import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FrontDoorStats } from '../../../src/front-door/front-door.js';
import { INITIAL_ALERT_STATE, buildAlertPayload, stepAlerts, type AlertContext, type AlertInput, type AlertKind } from '../../../src/ops/alert-policy.js';
import { MAX_SPOOLED, SPOOL_FILE, mergeSpool, parseSpool, readSpool, validSpooledAlert, writeSpool, type SpooledAlert } from '../../../src/ops/alert-spool.js';
import { MAX_CHANNEL_LABELS, createMetrics } from '../../../src/ops/metrics.js';
import { ALERT_SETTINGS, ev, event, runAlerts } from '../../helpers/alert-steps.js';

const channel = (at: number, name: string, which: 'gateway.channel_unhealthy' | 'gateway.channel_recovered' = 'gateway.channel_unhealthy'): AlertInput => ev(at, which, { channel: name, failing: [name] });
const diskFacts = (freeBytes: number, sizeBytes: number, thresholdBytes: number) => ({ stateDir: '/data', freeBytes, sizeBytes, thresholdBytes });
const low = (at: number): AlertInput => ev(at, 'supervisor.state_disk_low', diskFacts(1, 100, 5));
const readOnly = (at: number): AlertInput => ev(at, 'supervisor.state_disk_read_only', { stateDir: '/data', code: 'EROFS' });

describe('alerts for channel and disk health', () => {
  it.each<[string, AlertInput[], AlertKind[][]]>([
    ['a failing channel alerts', [channel(0, 'telegram')], [['channel_unhealthy']]],
    ['a recovery does not', [channel(0, 'telegram'), channel(1, 'telegram', 'gateway.channel_recovered')], [['channel_unhealthy'], []]],
    ['a flapping channel alerts once per window', [channel(0, 'telegram'), channel(10, 'telegram'), channel(60_001, 'telegram')], [['channel_unhealthy'], [], ['channel_unhealthy']]],
    ['each channel for itself', [channel(0, 'telegram'), channel(1, 'slack')], [['channel_unhealthy'], ['channel_unhealthy']]],
    ['disk low, once per window', [low(0), low(5), low(60_000)], [['disk_low'], [], ['disk_low']]],
    ['read-only', [readOnly(0), readOnly(1)], [['disk_read_only'], []]],
  ])('%s', (_name, inputs, expected) => {
    expect(runAlerts(inputs)).toEqual(expected);
  });

  it('carries the channel and the disk figures in its facts and summary', () => {
    const context: AlertContext = { service: 's', instance: 'i', version: '1', platform: 'local', gatewayState: 'ready', restarts: 0, lastExit: null };
    const [unhealthy] = stepAlerts(INITIAL_ALERT_STATE, channel(0, 'telegram'), ALERT_SETTINGS).alerts;
    const payload = buildAlertPayload(unhealthy!, context);
    expect(payload).toMatchObject({ kind: 'channel_unhealthy', severity: 'warning', facts: { channel: 'telegram' } });
    expect(payload.summary).toContain('telegram as failing');
    expect(payload.summary).toContain('not restarted');
    const [disk] = stepAlerts(INITIAL_ALERT_STATE, ev(0, 'supervisor.state_disk_low', diskFacts(50 * 1048576, 2000 * 1048576, 100 * 1048576)), ALERT_SETTINGS).alerts;
    expect(buildAlertPayload(disk!, context).summary).toContain('50.0 MiB free of 2000.0 MiB');
    expect(buildAlertPayload(disk!, context, { late: true })).toMatchObject({ late: true, text: expect.stringContaining('from the previous run') });
  });
});

describe('channel metric', () => {
  const stats = { httpResponses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 }, websocketsOpened: 0, websocketsOpen: 0, inflightRequests: 0, upstreamErrors: { http: 0, websocket: 0 }, bytesReceived: 0, bytesSent: 0, drain: { httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 } } as FrontDoorStats;
  const setup = () => createMetrics({ gateway: () => ({ state: 'ready', readyAt: 0 }), frontDoor: () => stats, memory: () => null, disk: () => ({ freeBytes: 10, sizeBytes: 100, writable: false, writeError: 'EROFS' }) }, { defaultMetrics: false });

  it('1 while failing, 0 after; past the cap, _other counts the failing ones', async () => {
    const metrics = setup();
    const unhealthy = (name: string) => metrics.observe(event('gateway.channel_unhealthy', { channel: name, failing: [name] }));
    const recovered = (name: string) => metrics.observe(event('gateway.channel_recovered', { channel: name, failing: [] }));
    unhealthy('telegram');
    unhealthy('slack');
    recovered('slack');
    for (let i = 0; i < MAX_CHANNEL_LABELS + 5; i++) unhealthy(`c${i}`);
    recovered(`c${MAX_CHANNEL_LABELS + 4}`);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^openclaw_supervisor_gateway_channel_failing\{channel="telegram"\} 1$/m);
    expect(text).toMatch(/^openclaw_supervisor_gateway_channel_failing\{channel="slack"\} 0$/m);
    // telegram, slack and 30 of the c's have labels; the other 7 c's went to _other, one recovered.
    expect(text).toMatch(/^openclaw_supervisor_gateway_channel_failing\{channel="_other"\} 6$/m);
    expect(text.match(/^openclaw_supervisor_gateway_channel_failing\{/gm)).toHaveLength(MAX_CHANNEL_LABELS + 1);
    expect(text).toMatch(/^openclaw_supervisor_state_disk_free_bytes 10$/m);
    expect(text).toMatch(/^openclaw_supervisor_state_disk_size_bytes 100$/m);
    expect(text).toMatch(/^openclaw_supervisor_state_disk_writable 0$/m);
  });
});

const entry = (at: number, kind: AlertKind = 'crash_loop'): SpooledAlert => ({
  alert: { kind, severity: 'critical', at, facts: { failures: 5, limitBurst: 5, lastCause: 'failure', channel: null } },
  gateway: { state: 'failed', restarts: 4, lastExit: { code: 1, signal: null, reason: 'failure', at } },
});

describe('alert spool', () => {
  it('keeps the newest 20', () => {
    const merged = mergeSpool(Array.from({ length: 15 }, (_, i) => entry(i + 1)), Array.from({ length: 10 }, (_, i) => entry(100 + i)));
    expect(merged).toHaveLength(MAX_SPOOLED);
    expect(merged[0]!.alert.at).toBe(6);
    expect(merged.at(-1)!.alert.at).toBe(109);
  });

  it.each<[string, unknown]>([
    ['free text in a fact (a planted phishing line)', { ...entry(1), alert: { ...entry(1).alert, facts: { failures: 'click https://evil.example/login now' } } }],
    ['an unknown kind', { ...entry(1), alert: { ...entry(1).alert, kind: 'custom' } }],
    ['a prototype key as kind', { ...entry(1), alert: { ...entry(1).alert, kind: '__proto__' } }],
    ['an unknown gateway state', { ...entry(1), gateway: { ...entry(1).gateway, state: 'pwned' } }],
    ['a bad signal', { ...entry(1), gateway: { ...entry(1).gateway, lastExit: { code: null, signal: 'rm -rf', reason: 'failure', at: 1 } } }],
    ['a payload text', { text: 'hello', kind: 'crash_loop' }],
  ])('refuses an entry with %s', (_name, value) => {
    expect(validSpooledAlert(value)).toBeNull();
  });

  it('reads back what it wrote: whole, 0600, valid entries only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-spool-'));
    expect(await readSpool(dir)).toBeNull();
    await writeSpool(dir, [entry(1), entry(2, 'disk_low')]);
    expect(statSync(join(dir, SPOOL_FILE)).mode & 0o777).toBe(0o600);
    expect(parseSpool((await readSpool(dir))!)).toEqual({ entries: [entry(1), entry(2, 'disk_low')], dropped: 0 });
    writeFileSync(join(dir, SPOOL_FILE), JSON.stringify([entry(3), { kind: 'x' }]));
    expect(parseSpool((await readSpool(dir))!)).toEqual({ entries: [entry(3)], dropped: 1 });
    expect(parseSpool('not json')).toEqual({ entries: [], dropped: 1 });
    expect(readFileSync(join(dir, SPOOL_FILE), 'utf8')).not.toContain('http');
  });

  it('does not follow a symbolic link planted at its name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-spool-'));
    const target = join(dir, 'elsewhere.json');
    writeFileSync(target, JSON.stringify([entry(1)]));
    symlinkSync(target, join(dir, SPOOL_FILE));
    expect(parseSpool((await readSpool(dir))!).entries).toEqual([]);
  });
});
