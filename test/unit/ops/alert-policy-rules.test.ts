import { describe, expect, it } from 'vitest';
import { INITIAL_ALERT_STATE, buildAlertPayload, mib, stepAlerts, type Alert, type AlertContext, type AlertInput, type AlertPolicyState } from '../../../src/ops/alert-policy.js';
import type { RestartCause } from '../../../src/gateway/restart-policy.js';
import { ALERT_SETTINGS, FIELDS, ev, runAlerts } from '../../helpers/alert-steps.js';

/**
 * src/ops/alert-policy.ts row by row with the exact alerts and summaries: the edges
 * alert-policy.test.ts leaves open (window boundaries, a counter that went down, each kind's
 * alert and summary, a late payload, Discord's 2000-character content).
 */

const restart = (at: number, reason: RestartCause = 'failure'): AlertInput => ev(at, 'gateway.restart_scheduled', { reason, delayMs: 0 });
const mem = (at: number, oomKills: number | null): AlertInput => ({ kind: 'memory', at, oomKills });
const channel = (at: number, name = 'telegram'): AlertInput => ev(at, 'gateway.channel_unhealthy', { channel: name, failing: [name] });
const diskLow = (at: number): AlertInput => ev(at, 'supervisor.state_disk_low', { stateDir: '/data', freeBytes: 50 * 1024 * 1024, sizeBytes: 1024 * 1024 * 1024, thresholdBytes: 100 * 1024 * 1024 });
const diskReadOnly = (at: number): AlertInput => ev(at, 'supervisor.state_disk_read_only', { stateDir: '/data', code: 'EROFS' });
const rolledBack = (at: number): AlertInput => ev(at, 'gateway.update_rolled_back', { from: '2026.9.4', to: '2026.9.6', stage: 'preflight', reason: 'x', restoredBackup: null });

/** Every alert of the inputs, in order. */
function alertsOf(inputs: readonly AlertInput[]): Alert[] {
  let state: AlertPolicyState = INITIAL_ALERT_STATE;
  return inputs.flatMap((input) => {
    const step = stepAlerts(state, input, ALERT_SETTINGS);
    state = step.state;
    return step.alerts;
  });
}

describe('stepAlerts: the boundaries', () => {
  it.each<[string, AlertInput[], string[][]]>([
    ['a restart exactly one window old no longer counts', [restart(0), restart(1), restart(60_000)], [[], [], []]],
    ['the quiet ends exactly one window after the alert', [restart(0), restart(1), restart(2), restart(60_000), restart(60_001), restart(60_002)], [[], [], ['restarts'], [], [], ['restarts']]],
    ['a refusal ends the alerts of a give-up: no crash_loop after it', [ev(1, 'gateway.refused', FIELDS.refused), ev(2, 'gateway.crash_loop', FIELDS.crashLoop)], [['refused'], []]],
    ['a counter that went down is no baseline to count from', [mem(0, 5), mem(1, 3), mem(2, 4), mem(3, 6)], [[], [], [], ['oom_kill']]],
    ['a channel alerts once per window, then again', [channel(0), channel(59_999), channel(60_000)], [['channel_unhealthy'], [], ['channel_unhealthy']]],
    ['each channel has its own window', [channel(0, 'telegram'), channel(1, 'slack')], [['channel_unhealthy'], ['channel_unhealthy']]],
    ['disk_low once per window', [diskLow(0), diskLow(1)], [['disk_low'], []]],
    ['disk_read_only once per window, apart from disk_low', [diskLow(0), diskReadOnly(1), diskReadOnly(2)], [['disk_low'], ['disk_read_only'], []]],
    ['each rollback alerts', [rolledBack(0), rolledBack(1)], [['update_rolled_back'], ['update_rolled_back']]],
  ])('%s', (_name, inputs, kinds) => {
    expect(runAlerts(inputs)).toEqual(kinds);
  });

  it('a refusal marks the policy as given up', () => {
    expect(stepAlerts(INITIAL_ALERT_STATE, ev(1, 'gateway.refused', FIELDS.refused), ALERT_SETTINGS).state.gaveUp).toBe(true);
  });

  it.each<[string, AlertInput, Record<string, number>]>([
    ['channel:<name>', channel(5), { 'channel:telegram': 60_005 }],
    ['disk_low', diskLow(5), { disk_low: 60_005 }],
    ['disk_read_only', diskReadOnly(5), { disk_read_only: 60_005 }],
  ])('the quiet key %s, until one window later', (_key, input, quietKeys) => {
    expect(stepAlerts(INITIAL_ALERT_STATE, input, ALERT_SETTINGS).state.quietKeys).toEqual(quietKeys);
  });

  it('an expired quiet key is dropped from the state', () => {
    let state = stepAlerts(INITIAL_ALERT_STATE, channel(0, 'telegram'), ALERT_SETTINGS).state;
    state = stepAlerts(state, channel(70_000, 'slack'), ALERT_SETTINGS).state;
    expect(state.quietKeys).toEqual({ 'channel:slack': 130_000 });
  });
});

describe('stepAlerts: each kind, exactly', () => {
  it.each<[string, AlertInput[], Alert]>([
    ['refused', [ev(7, 'gateway.refused', FIELDS.refused)], { kind: 'refused', severity: 'critical', at: 7, facts: { gatewayExitCode: 78, exitCode: 78 } }],
    ['unresponsive', [ev(7, 'gateway.unresponsive', FIELDS.unresponsive)], { kind: 'unresponsive', severity: 'critical', at: 7, facts: { failures: 3, unresponsiveForMs: 40_000 } }],
    ['oom_kill', [mem(0, 1), mem(7, 4)], { kind: 'oom_kill', severity: 'critical', at: 7, facts: { newOomKills: 3, oomKillsTotal: 4 } }],
    ['channel_unhealthy', [channel(7)], { kind: 'channel_unhealthy', severity: 'warning', at: 7, facts: { channel: 'telegram' } }],
    ['disk_low', [diskLow(7)], { kind: 'disk_low', severity: 'warning', at: 7, facts: { freeBytes: 52_428_800, sizeBytes: 1_073_741_824, thresholdBytes: 104_857_600 } }],
    ['disk_read_only', [diskReadOnly(7)], { kind: 'disk_read_only', severity: 'critical', at: 7, facts: { code: 'EROFS' } }],
    ['update_rolled_back', [rolledBack(7)], { kind: 'update_rolled_back', severity: 'warning', at: 7, facts: { stage: 'preflight', from: '2026.9.4', to: '2026.9.6' } }],
  ])('%s', (_name, inputs, alert) => {
    expect(alertsOf(inputs)).toEqual([alert]);
  });
});

describe('buildAlertPayload: summaries and text', () => {
  const context: AlertContext = { service: 'openclaw', instance: 'pod-0', version: '0.1.0', platform: 'railway', gatewayState: 'ready', restarts: 2, lastExit: null };
  const AT = Date.UTC(2026, 0, 1);

  it.each<[string, AlertInput[], string]>([
    ['oom_kill', [mem(0, 1), mem(AT, 4)], 'the kernel killed 3 process(es) of this container for memory (cgroup oom_kill, 4 in all): give it more memory (the gateway tree needs ~1 GB)'],
    ['channel_unhealthy', [channel(AT)], "the gateway reports telegram as failing in its readiness (GET /readyz): the gateway keeps running and is not restarted for it; see `openclaw channels status` and the gateway's log"],
    ['disk_low', [diskLow(AT)], "the state directory's disk is low: 50.0 MiB free of 1024.0 MiB (alert below 100.0 MiB): free space or grow the volume before the gateway's writes fail"],
    ['disk_read_only', [diskReadOnly(AT)], 'the state directory refused a write (EROFS): the gateway cannot save sessions, config or its token; check the volume'],
    ['update_rolled_back', [rolledBack(AT)], "openclaw 2026.9.6 was not taken into service (preflight): openclaw 2026.9.4 keeps running; the supervisor's gateway.update_rolled_back record says why"],
  ])('%s', (_name, inputs, summary) => {
    const payload = buildAlertPayload(alertsOf(inputs)[0]!, context);
    expect(payload.summary).toBe(summary);
    expect(payload.text).toBe(`${payload.severity === 'critical' ? '🔴' : '🟠'} openclaw-supervisor on openclaw (pod-0): ${summary}. Gateway ready, 2 restarts.`);
  });

  it('a late alert says so in its text and carries late: true', () => {
    const payload = buildAlertPayload(alertsOf([diskReadOnly(AT)])[0]!, context, { late: true });
    expect(payload.text).toBe(
      '🔴 (from the previous run, 2026-01-01T00:00:00.000Z, not delivered before its exit) openclaw-supervisor on openclaw (pod-0): the state directory refused a write (EROFS): the gateway cannot save sessions, config or its token; check the volume. Gateway ready, 2 restarts.',
    );
    expect(payload.late).toBe(true);
  });

  it('an alert not late has no late field', () => {
    expect('late' in buildAlertPayload(alertsOf([diskReadOnly(AT)])[0]!, context, { late: false })).toBe(false);
  });

  it("Discord's content is the text cut at 2000 characters", () => {
    const payload = buildAlertPayload(alertsOf([channel(AT, 'c'.repeat(3000))])[0]!, context);
    expect(payload.text.length).toBeGreaterThan(2000);
    expect(payload.content).toBe(payload.text.slice(0, 2000));
  });

  it.each<[unknown, string]>([
    [1024 * 1024, '1.0'],
    [1.5 * 1024 * 1024, '1.5'],
    [0, '0.0'],
    [undefined, '?'],
    ['12', '?'],
    [null, '?'],
  ])('mib(%j) = %s', (bytes, text) => {
    expect(mib(bytes)).toBe(text);
  });
});
