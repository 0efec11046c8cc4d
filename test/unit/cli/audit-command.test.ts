import { describe, expect, it } from 'vitest';
import { findAuditCommand } from '../../../src/cli/subcommands.js';
import { UsageError } from '../../../src/errors.js';

describe('findAuditCommand', () => {
  it.each<[string, string[], ReturnType<typeof findAuditCommand>]>([
    ['no arguments: run', [], null],
    ['audit', ['audit'], { ownArgs: [], json: false }],
    ['audit --json', ['audit', '--json'], { ownArgs: [], json: true }],
    ['settings before audit', ['--state-dir', '/data/s', '--trusted-proxies=100.64.0.2', 'audit'], { ownArgs: ['--state-dir', '/data/s', '--trusted-proxies=100.64.0.2'], json: false }],
    ['a setting value that reads "audit" is a value', ['--state-dir', 'audit'], null],
    ['another subcommand', ['healthcheck'], null],
    ['audit as a gateway argument', ['--', 'node', 'audit'], null],
  ])('%s', (_name, argv, expected) => {
    expect(findAuditCommand(argv)).toEqual(expected);
  });

  it('refuses anything after audit but --json, saying where settings go', () => {
    expect(() => findAuditCommand(['audit', '--fix'])).toThrow(UsageError);
    expect(() => findAuditCommand(['audit', '--state-dir', '/x'])).toThrow(/settings go before "audit"/);
  });
});
