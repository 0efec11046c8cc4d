import { describe, expect, it } from 'vitest';
import { SUPERVISOR_NODE_FLAGS, nodeArgsFor } from '../../../src/cli/pid1.js';

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
