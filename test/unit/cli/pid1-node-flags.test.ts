import { describe, expect, it } from 'vitest';
import { SUPERVISOR_MALLOC_ENV, SUPERVISOR_NODE_FLAGS, envFor, nodeArgsFor } from '../../../src/cli/pid1.js';

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

// The re-executed supervisor gets the glibc settings unless the user set them; the list of what was
// added lets the gateway's env leave them out (child-env.test.ts).
describe('envFor', () => {
  it.each([
    { env: { HOME: '/root' }, threshold: '16384', added: 'MALLOC_MMAP_THRESHOLD_' },
    { env: { HOME: '/root', MALLOC_MMAP_THRESHOLD_: '131072' }, threshold: '131072', added: '' },
  ])('$env', ({ env, threshold, added }) => {
    const next = envFor(env);
    expect(next).toMatchObject({ HOME: '/root', MALLOC_MMAP_THRESHOLD_: threshold, SUPERVISOR_ADDED_ENV: added, SUPERVISOR_UNDER_REAPER: '1' });
    expect(SUPERVISOR_MALLOC_ENV).toEqual({ MALLOC_MMAP_THRESHOLD_: '16384' });
  });
});
