import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli/help.js';
import { CommandNotFoundError, StartFailure, SupervisorError, UsageError } from '../../src/errors.js';
import { constants } from 'node:os';
import { exitCodeOf } from '../../src/cli/own-session.js';
import { EXIT, EXIT_CODES, secondSignalExit, signalExitCode } from '../../src/exit-codes.js';
import { CommandNotFound } from '../../src/preflight/locate-gateway.js';

describe('the exit-code table', () => {
  // The README's table is compared with this one in test/unit/readme.test.ts.

  it('lists 0, 1, 2, 78, 127 and 128+n, each once', () => {
    expect(EXIT_CODES.map((spec) => spec.code)).toEqual([0, 1, 2, 78, 127, '128+n']);
    expect(new Set(EXIT_CODES.map((spec) => spec.name)).size).toBe(EXIT_CODES.length);
  });

  it('has a row for every code the supervisor uses', () => {
    for (const code of Object.values(EXIT)) expect(EXIT_CODES.map((spec) => spec.code)).toContain(code);
  });

  it('is printed by --help, 128+n included', () => {
    const help = helpText('0.0.0').split('\n');
    for (const spec of EXIT_CODES) {
      expect(help.some((line) => line.trimStart().startsWith(String(spec.code)) && line.endsWith(spec.description)), `--help lists ${spec.code}`).toBe(true);
    }
  });
});

describe('secondSignalExit: 128 + the signal number', () => {
  it.each<[NodeJS.Signals, number]>([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ])('%s → %d', (signal, code) => {
    expect(secondSignalExit(signal)).toBe(code);
  });
});

describe("signalExitCode: 128 + the platform's number of the signal (os.constants.signals)", () => {
  it.each<[NodeJS.Signals, number]>([
    ['SIGHUP', 129],
    ['SIGINT', 130],
    ['SIGQUIT', 131],
    ['SIGKILL', 137],
    ['SIGTERM', 143],
  ])('%s → %d', (signal, code) => {
    expect(signalExitCode(signal)).toBe(code);
    expect(code - 128).toBe(constants.signals[signal]);
  });

  it("the openclaw CLI's end as a shell reports it: its code, else 128+n, else 1", () => {
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(null, 'SIGHUP')).toBe(129);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
    expect(exitCodeOf(null, null)).toBe(EXIT.failed);
  });
});

describe('errors: one base, the exit code of each kind', () => {
  it.each<[string, SupervisorError, number]>([
    ['bad input', new UsageError('x'), 2],
    ['a start failure', new StartFailure('x'), 1],
    ['a missing command', new CommandNotFoundError('x'), 127],
    ['a missing gateway command', new CommandNotFound('/no/such/binary', ['/no/such/binary']), 127],
  ])('%s exits %d', (_, error, code) => {
    expect(error).toBeInstanceOf(SupervisorError);
    expect(error.exitCode).toBe(code);
  });

  it('a missing gateway command says what was tried and is not bad input', () => {
    const error = new CommandNotFound('openclaw', ['/a/openclaw', '/b/openclaw']);
    expect(error.message).toContain('/a/openclaw, /b/openclaw');
    expect(error).not.toBeInstanceOf(UsageError);
  });
});
