import { describe, expect, it } from 'vitest';
import { parseUpdateArgs } from '../../../src/cli/update.js';
import { UsageError } from '../../../src/errors.js';
import { chooseRelease, preflightVerdict } from '../../../src/releases/choose-release.js';
import { parseReleasePin } from '../../../src/config/release-pin.js';
import { newerRelease, nodeSatisfies } from '../../../src/releases/release-versions.js';
import { tailOf } from '../../../src/releases/release-cli.js';
import type { SupervisorEvent } from '../../../src/log/events.js';
import { INITIAL_ALERT_STATE, stepAlerts } from '../../../src/ops/alert-policy.js';

describe('parseReleasePin: SUPERVISOR_OPENCLAW_VERSION', () => {
  it.each([
    ['2026.9.6', { kind: 'exact', version: '2026.9.6' }],
    [' 2026.9.4 ', { kind: 'exact', version: '2026.9.4' }],
    ['2026.9.1-beta.1', { kind: 'exact', version: '2026.9.1-beta.1' }],
    ['latest', { kind: 'latest' }],
    ['LATEST', { kind: 'latest' }],
  ])('%j → %j', (raw, pin) => expect(parseReleasePin(raw, 'SUPERVISOR_OPENCLAW_VERSION')).toEqual(pin));

  it.each(['^2026.9.0', '2026.9.x', 'v2026.9.6', '2026.9', 'next', '', '2026.9.6 || 2026.9.4', '=2026.9.6'])('refuses %j, naming the variable and what it takes', (raw) => {
    expect(() => parseReleasePin(raw, 'SUPERVISOR_OPENCLAW_VERSION')).toThrow(UsageError);
    expect(() => parseReleasePin(raw, 'SUPERVISOR_OPENCLAW_VERSION')).toThrow(/SUPERVISOR_OPENCLAW_VERSION=.* is invalid: expected an openclaw release such as 2026\.9\.6 .* or latest/);
  });
});

describe('newerRelease and nodeSatisfies', () => {
  it.each([
    ['2026.9.4', '2026.9.6', '2026.9.6'],
    ['2026.9.6', '2026.9.4', '2026.9.6'],
    ['2026.10.1', '2026.9.6', '2026.10.1'],
    ['2026.9.1-beta.1', '2026.9.1', '2026.9.1'],
    [null, '2026.9.4', '2026.9.4'],
    ['2026.9.4', null, '2026.9.4'],
    [null, null, null],
  ])('newer of %j and %j is %j', (a, b, newer) => expect(newerRelease(a, b)).toBe(newer));

  it.each([
    ['v24.21.0', '>=24.16.0 <25 || >=26.1.0', true],
    ['v24.15.0', '>=24.16.0 <25 || >=26.1.0', false],
    ['v25.2.0', '>=24.16.0 <25 || >=26.1.0', false],
    ['v20.18.1', '>=22', false],
    ['v20.18.1', null, true],
  ])('Node %s with engines %j: %j', (node, engines, ok) => expect(nodeSatisfies(node, engines)).toBe(ok));
});

describe('chooseRelease: what a start runs', () => {
  it.each([
    ['fresh state, no pin: the image', { pinned: null, image: '2026.9.6', lastGood: null, stateWritten: false }, { target: '2026.9.6', from: null, step: false }],
    ['fresh state, pinned: the pin, no step', { pinned: '2026.9.4', image: '2026.9.6', lastGood: null, stateWritten: false }, { target: '2026.9.4', from: null, step: false }],
    ['state from before the store, pin differs: a step from the image', { pinned: '2026.9.4', image: '2026.9.6', lastGood: null, stateWritten: true }, { target: '2026.9.4', from: '2026.9.6', step: true }],
    ['pin equals the last good one: no step', { pinned: '2026.9.4', image: '2026.9.6', lastGood: '2026.9.4', stateWritten: true }, { target: '2026.9.4', from: '2026.9.4', step: false }],
    ['pin moves up: a step', { pinned: '2026.9.6', image: '2026.9.6', lastGood: '2026.9.4', stateWritten: true }, { target: '2026.9.6', from: '2026.9.4', step: true }],
    ['pin moves down: a step (the preflight decides)', { pinned: '2026.8.2', image: '2026.9.6', lastGood: '2026.9.6', stateWritten: true }, { target: '2026.8.2', from: '2026.9.6', step: true }],
    ['no pin, a live update made a newer last good one: it stays', { pinned: null, image: '2026.9.4', lastGood: '2026.9.6', stateWritten: true }, { target: '2026.9.6', from: '2026.9.6', step: false }],
    ['no pin, a rebuilt image is newer: a step up', { pinned: null, image: '2026.9.6', lastGood: '2026.9.4', stateWritten: true }, { target: '2026.9.6', from: '2026.9.4', step: true }],
    ['nothing known', { pinned: null, image: null, lastGood: null, stateWritten: true }, { target: null, from: null, step: false }],
  ])('%s', (_name, input, expected) => expect(chooseRelease(input)).toEqual(expected));
});

describe('preflightVerdict: openclaw.state-schema-preflight.v1', () => {
  const report = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ schema: 'openclaw.state-schema-preflight.v1', status, foundVersion: 18, targetVersion: 17, ...extra });
  it.each([
    ['exact', true],
    ['startup-repairable', true],
    ['migration-required', true],
    ['incompatible', false],
    ['indeterminate', false],
    ['something-new', false],
  ])('%s → startable %j', (status, startable) => expect(preflightVerdict(report(status))).toEqual({ startable, status, foundVersion: 18, targetVersion: 17 }));

  it.each([
    ['no report', null],
    ['another schema', report('exact', { schema: 'openclaw.agent-schema-preflight.v1' })],
    ['no status', { schema: 'openclaw.state-schema-preflight.v1' }],
  ])('%s → refused as unreadable', (_name, value) => expect(preflightVerdict(value)).toMatchObject({ startable: false, status: 'unreadable' }));
});

describe('parseUpdateArgs', () => {
  it.each([
    [[], { to: 'latest', check: false, yes: false }],
    [['--check'], { to: 'latest', check: true, yes: false }],
    [['--to', '2026.9.6', '--yes'], { to: '2026.9.6', check: false, yes: true }],
    [['--to=latest', '-y'], { to: 'latest', check: false, yes: true }],
  ])('%j', (args, parsed) => expect(parseUpdateArgs(args)).toEqual(parsed));

  it.each([[['--force']], [['2026.9.6']], [['--to']], [['--to', '^2026']]])('refuses %j', (args) => expect(() => parseUpdateArgs(args)).toThrow(UsageError));
});

describe('tailOf', () => {
  it("prefers openclaw's Reason line over its generic hints", () => {
    const stderr = '[openclaw] The CLI command failed.\n[openclaw] Reason: Backup output must not be written inside a source path\n[openclaw] Try: openclaw doctor\n[openclaw] Help: openclaw --help\n';
    expect(tailOf(stderr)).toBe('Backup output must not be written inside a source path');
  });
  it('else keeps the last lines', () => expect(tailOf('a\n\nb\nc\nd\n', 2)).toBe('c\nd'));
});

describe('gateway.update_rolled_back → alert', () => {
  it('keeps the stage and the two versions, and alerts once per step', () => {
    const event: SupervisorEvent = { name: 'gateway.update_rolled_back', fields: { from: '2026.9.6', to: '2026.8.2', stage: 'preflight', reason: 'free text', restoredBackup: null } };
    const { alerts } = stepAlerts(INITIAL_ALERT_STATE, { kind: 'event', event, at: 7 }, { restarts: 3, windowMs: 1000 });
    expect(alerts).toEqual([{ kind: 'update_rolled_back', severity: 'warning', at: 7, facts: { stage: 'preflight', from: '2026.9.6', to: '2026.8.2' } }]);
  });
});

