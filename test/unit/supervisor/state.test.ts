import { describe, expect, it } from 'vitest';
import { INITIAL_STATE, supervisorTransition, type Effect, type SupervisorEvent, type SupervisorState } from '../../../src/supervisor/state.js';

const starting: SupervisorState = INITIAL_STATE;
const serving: SupervisorState = { phase: 'serving' };
const draining: SupervisorState = { phase: 'draining', signal: 'SIGTERM' };
const stopped0: SupervisorState = { phase: 'stopped', exitCode: 0, reason: 'stopped on signal' };
const failed1: SupervisorState = { phase: 'failed', exitCode: 1, reason: 'gateway crash loop' };

const sig = (signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP'): SupervisorEvent => ({ type: 'signal', signal });
const ended = (code: 0 | 1 | 78): SupervisorEvent => ({ type: 'gateway_ended', code });

describe('the supervisor lifecycle: every (state, event) that matters, written out', () => {
  it.each<[string, SupervisorState, SupervisorEvent, SupervisorState, Effect]>([
    ['starting, listening → serving', starting, { type: 'listening' }, serving, 'none'],
    ['a signal before listening stops now with 128+n', starting, sig('SIGTERM'), { phase: 'stopped', exitCode: 143, reason: 'SIGTERM before listening' }, 'stop_now'],
    ['serving, SIGTERM → draining (the graceful stop)', serving, sig('SIGTERM'), { phase: 'draining', signal: 'SIGTERM' }, 'start_stop'],
    ['serving, SIGINT → draining', serving, sig('SIGINT'), { phase: 'draining', signal: 'SIGINT' }, 'start_stop'],
    ['serving, SIGHUP → draining', serving, sig('SIGHUP'), { phase: 'draining', signal: 'SIGHUP' }, 'start_stop'],
    ['draining, a second SIGTERM → stopped 143 at once', draining, sig('SIGTERM'), { phase: 'stopped', exitCode: 143, reason: 'second SIGTERM' }, 'stop_now'],
    ['draining, SIGINT → stopped 130 at once', draining, sig('SIGINT'), { phase: 'stopped', exitCode: 130, reason: 'second SIGINT' }, 'stop_now'],
    ['draining, SIGHUP is ignored (the terminal went away)', draining, sig('SIGHUP'), draining, 'none'],
    ['serving, crash loop → failed 1', serving, ended(1), failed1, 'cut_and_exit'],
    ['serving, refusal → failed 78', serving, ended(78), { phase: 'failed', exitCode: 78, reason: 'gateway refused its configuration' }, 'cut_and_exit'],
    ['serving, internal error → failed 1, not a crash loop', serving, { type: 'internal_error' }, { phase: 'failed', exitCode: 1, reason: 'internal error' }, 'cut_and_exit'],
    ['draining, the gateway ends (0) as part of the stop: no change', draining, ended(0), draining, 'none'],
    ['draining, even a crash-loop code while stopping changes nothing', draining, ended(1), draining, 'none'],
    ['draining, drained → stopped 0', draining, { type: 'drained' }, stopped0, 'exit'],
    ['serving, drained (no stop running) is ignored', serving, { type: 'drained' }, serving, 'none'],
    ['stopped: a late drain cannot change the exit code', { phase: 'stopped', exitCode: 143, reason: 'second SIGTERM' }, { type: 'drained' }, { phase: 'stopped', exitCode: 143, reason: 'second SIGTERM' }, 'none'],
    ['stopped: a late gateway end cannot either', stopped0, ended(1), stopped0, 'none'],
    ['failed: a signal after the decision changes nothing', failed1, sig('SIGTERM'), failed1, 'none'],
  ])('%s', (_name, state, event, next, effect) => {
    expect(supervisorTransition(state, event)).toEqual({ state: next, effect });
  });
});
