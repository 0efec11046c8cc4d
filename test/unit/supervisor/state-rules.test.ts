import { describe, expect, it } from 'vitest';
import { supervisorTransition, type SupervisorEvent, type SupervisorState } from '../../../src/supervisor/state.js';

/** The transitions supervisor/state.test.ts leaves open, one row each, with the exact next state and effect. */
describe('supervisorTransition: the edges', () => {
  it.each<[string, SupervisorState, SupervisorEvent, { state: SupervisorState; effect: string }]>([
    ['listening again while serving changes nothing', { phase: 'serving' }, { type: 'listening' }, { state: { phase: 'serving' }, effect: 'none' }],
    ['listening during a drain changes nothing', { phase: 'draining', signal: 'SIGTERM' }, { type: 'listening' }, { state: { phase: 'draining', signal: 'SIGTERM' }, effect: 'none' }],
    ['SIGHUP before listening stops at once (nothing to drain)', { phase: 'starting' }, { type: 'signal', signal: 'SIGHUP' }, { state: { phase: 'stopped', exitCode: 129, reason: 'SIGHUP before listening' }, effect: 'stop_now' }],
    ['a gateway that ended after a requested stop (0) while serving changes nothing', { phase: 'serving' }, { type: 'gateway_ended', code: 0 }, { state: { phase: 'serving' }, effect: 'none' }],
  ])('%s', (_name, state, event, next) => {
    expect(supervisorTransition(state, event)).toEqual(next);
  });
});
