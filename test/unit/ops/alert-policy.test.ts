import { describe, expect, it } from 'vitest';
import { INITIAL_ALERT_STATE, buildAlertPayload, stepAlerts, type AlertContext, type AlertInput, type AlertKind } from '../../../src/ops/alert-policy.js';
import type { RestartCause } from '../../../src/gateway/restart-policy.js';
import { ALERT_SETTINGS, FIELDS, ev, runAlerts } from '../../helpers/alert-steps.js';

const restart = (at: number, reason: RestartCause = 'failure'): AlertInput => ev(at, 'gateway.restart_scheduled', { reason, delayMs: 0 });
const mem = (at: number, oomKills: number | null): AlertInput => ({ kind: 'memory', at, oomKills });
const unresponsive = (at: number): AlertInput => ev(at, 'gateway.unresponsive', FIELDS.unresponsive);
const crashLoop = (at: number): AlertInput => ev(at, 'gateway.crash_loop', FIELDS.crashLoop);
const refused = (at: number): AlertInput => ev(at, 'gateway.refused', FIELDS.refused);
const exited = (at: number, oomKills: number | null): AlertInput => ev(at, 'gateway.exited', FIELDS.exited(oomKills));

describe('stepAlerts', () => {
  it.each<[string, AlertInput[], AlertKind[][]]>([
    ['crash-loop give-up: one alert', [crashLoop(1)], [['crash_loop']]],
    ['a second give-up record is not a second alert', [crashLoop(1), crashLoop(2)], [['crash_loop'], []]],
    ['refusal (78): one alert', [refused(1)], [['refused']]],
    ['refusal after a give-up: nothing more', [crashLoop(1), refused(2)], [['crash_loop'], []]],
    ['two failure restarts: below the threshold', [restart(0), restart(10)], [[], []]],
    ['three failure restarts within the window', [restart(0), restart(10), restart(20)], [[], [], ['restarts']]],
    ['every failure cause counts', [restart(0, 'startup-timeout'), restart(10, 'stable-failure'), restart(20, 'port-in-use')], [[], [], ['restarts']]],
    ['liveness kills and failed spawns are failures too', [restart(0, 'unresponsive'), restart(10, 'spawn-failed'), restart(20, 'unresponsive')], [[], [], ['restarts']]],
    ['each liveness kill alerts', [unresponsive(0), unresponsive(10)], [['unresponsive'], ['unresponsive']]],
    ['restart requests are no failures', [restart(0, 'restart-request'), restart(10, 'restart-request'), restart(20, 'restart-request')], [[], [], []]],
    ['three restarts spread wider than the window', [restart(0), restart(40_000), restart(70_000)], [[], [], []]],
    ['after an alert, quiet for one window', [restart(0), restart(1), restart(2), restart(3), restart(59_000)], [[], [], ['restarts'], [], []]],
    ['then it alerts again', [restart(0), restart(1), restart(2), restart(62_001), restart(62_002), restart(62_003)], [[], [], ['restarts'], [], [], ['restarts']]],
    ['first memory reading is the baseline', [mem(0, 2), mem(1, 2)], [[], []]],
    ['an OOM kill after the baseline', [mem(0, 0), mem(1, 1)], [[], ['oom_kill']]],
    ['each new OOM kill alerts', [mem(0, 0), mem(1, 1), mem(2, 1), mem(3, 3)], [[], ['oom_kill'], [], ['oom_kill']]],
    ['no cgroup: no readings, no alert', [mem(0, null), mem(1, null)], [[], []]],
    ['an OOM kill seen in a gateway exit record', [mem(0, 0), exited(1, 1), mem(2, 1)], [[], ['oom_kill'], []]],
    ['an exit without memory evidence', [mem(0, 0), exited(1, null)], [[], []]],
    [
      'other events',
      [ev(0, 'gateway.spawned', { gatewayPid: 3, command: ['openclaw'], spawns: 1 }), ev(1, 'gateway.ready', { gatewayPid: 3, sinceSpawnMs: 1 }), ev(2, 'supervisor.stopping', { signal: 'SIGTERM', drainTimeoutMs: 1 })],
      [[], [], []],
    ],
  ])('%s', (_name, inputs, expected) => {
    expect(runAlerts(inputs)).toEqual(expected);
  });

  it('states the facts of the restarts alert', () => {
    let state = INITIAL_ALERT_STATE;
    for (const at of [0, 1]) state = stepAlerts(state, restart(at), ALERT_SETTINGS).state;
    expect(stepAlerts(state, restart(2, 'startup-timeout'), ALERT_SETTINGS).alerts).toEqual([
      { kind: 'restarts', severity: 'warning', at: 2, facts: { restartsInWindow: 3, threshold: 3, windowMs: 60_000, lastCause: 'startup-timeout' } },
    ]);
  });
});

describe('buildAlertPayload', () => {
  const context: AlertContext = {
    service: 'openclaw',
    instance: 'pod-0',
    version: '0.1.0',
    platform: 'kubernetes',
    gatewayState: 'failed',
    restarts: 4,
    lastExit: { code: 1, signal: null, reason: 'failure', at: Date.UTC(2026, 0, 1) },
  };

  it('has a Slack/Discord text, the same as content, and structured fields', () => {
    const { alerts } = stepAlerts(INITIAL_ALERT_STATE, crashLoop(Date.UTC(2026, 0, 1, 0, 0, 5)), ALERT_SETTINGS);
    const payload = buildAlertPayload(alerts[0]!, context);
    expect(payload).toEqual({
      text: '🔴 openclaw-supervisor on openclaw (pod-0): the gateway failed 5 times within 300 s: the supervisor gave up and exits 1 (the platform\'s restart policy takes over). Gateway failed, 4 restarts; last exit: code 1 (failure).',
      content: payload.text,
      kind: 'crash_loop',
      severity: 'critical',
      summary: 'the gateway failed 5 times within 300 s: the supervisor gave up and exits 1 (the platform\'s restart policy takes over)',
      at: '2026-01-01T00:00:05.000Z',
      service: 'openclaw',
      instance: 'pod-0',
      version: '0.1.0',
      platform: 'kubernetes',
      gateway: { state: 'failed', restarts: 4, lastExit: { code: 1, signal: null, reason: 'failure', at: '2026-01-01T00:00:00.000Z' } },
      facts: { failures: 5, limitBurst: 5, limitIntervalMs: 300_000, exitCode: 1 },
    });
  });

  it.each<[string, AlertInput[], RegExp]>([
    ['refused', [refused(1)], /refused its config or auth \(exit 78/],
    ['oom_kill', [mem(0, 0), mem(1, 2)], /killed 2 process\(es\) of this container for memory/],
    ['restarts', [restart(0), restart(1), restart(2)], /restarted 3 times after failures within 60 s \(last: failure\)/],
    ['unresponsive', [unresponsive(0)], /stopped answering its health probe for 40 s \(3 probes in a row\): the supervisor killed it and restarts it/],
  ])('%s says what happened', (_name, inputs, text) => {
    let state = INITIAL_ALERT_STATE;
    const alerts = inputs.flatMap((input) => {
      const step = stepAlerts(state, input, ALERT_SETTINGS);
      state = step.state;
      return step.alerts;
    });
    expect(alerts).toHaveLength(1);
    const payload = buildAlertPayload(alerts[0]!, { ...context, lastExit: { code: null, signal: 'SIGKILL', reason: 'failure', at: 0 } });
    expect(payload.text).toMatch(text);
    expect(payload.text).toContain('last exit: SIGKILL (failure)');
    expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
  });
});
