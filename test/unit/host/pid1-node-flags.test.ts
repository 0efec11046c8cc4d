import { describe, expect, it } from 'vitest';
import { JEMALLOC_CONF, JEMALLOC_LIBRARIES, SUPERVISOR_NODE_FLAGS, nodeArgsFor, supervisorAllocatorEnv } from '../../../src/host/pid1.js';

// The PID 1 hand-over re-executes the supervisor's Node: it must carry our heap flags (sizes cannot
// be set at run time) without overriding a flag the user gave Node themselves.
describe('nodeArgsFor', () => {
  it('adds the supervisor heap flags', () => {
    expect(SUPERVISOR_NODE_FLAGS).toContain('--max-semi-space-size=1');
  });
  it.each([
    { execArgv: [], expected: ['--max-semi-space-size=1'] },
    { execArgv: ['--enable-source-maps'], expected: ['--enable-source-maps', '--max-semi-space-size=1'] },
    { execArgv: ['--max-semi-space-size=8'], expected: ['--max-semi-space-size=8'] },
    { execArgv: ['--max_semi_space_size=8'], expected: ['--max_semi_space_size=8'] },
    { execArgv: ['--max-semi-space-size', '8'], expected: ['--max-semi-space-size', '8'] },
    { execArgv: ['--max-old-space-size=64'], expected: ['--max-old-space-size=64', '--max-semi-space-size=1'] },
  ])('$execArgv', ({ execArgv, expected }) => {
    expect(nodeArgsFor(execArgv)).toEqual(expected);
  });
});

describe('supervisorAllocatorEnv: jemalloc for the supervisor alone, at the PID 1 hand-over', () => {
  const only = (path: string) => (candidate: string): boolean => candidate === path;
  it.each([
    ['the library there, nothing set: preload it with the decay settings, and say what was added', {}, only(JEMALLOC_LIBRARIES[0]!), { LD_PRELOAD: JEMALLOC_LIBRARIES[0], MALLOC_CONF: JEMALLOC_CONF, SUPERVISOR_PRELOADED: 'LD_PRELOAD,MALLOC_CONF' }],
    ['arm64', {}, only(JEMALLOC_LIBRARIES[1]!), { LD_PRELOAD: JEMALLOC_LIBRARIES[1], MALLOC_CONF: JEMALLOC_CONF, SUPERVISOR_PRELOADED: 'LD_PRELOAD,MALLOC_CONF' }],
    ["the user's MALLOC_CONF is kept (and stays theirs, passed on to the gateway)", { MALLOC_CONF: 'narenas:1' }, only(JEMALLOC_LIBRARIES[0]!), { LD_PRELOAD: JEMALLOC_LIBRARIES[0], SUPERVISOR_PRELOADED: 'LD_PRELOAD' }],
    ['LD_PRELOAD set by the user: left alone', { LD_PRELOAD: '/opt/other.so' }, only(JEMALLOC_LIBRARIES[0]!), {}],
    ['LD_PRELOAD set empty: the way to opt out', { LD_PRELOAD: '' }, only(JEMALLOC_LIBRARIES[0]!), {}],
    ['no library: glibc as before', {}, () => false, {}],
  ])('%s', (_name, env, exists, expected) => expect(supervisorAllocatorEnv(env, exists)).toEqual(expected));
});
