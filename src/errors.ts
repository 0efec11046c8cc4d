import { EXIT } from './exit-codes.js';

/**
 * One error model: what the supervisor refuses or cannot do, said to the user as one line (no
 * stack) by src/cli.ts, with the exit code of its kind (src/exit-codes.ts). Anything else thrown
 * is a bug of ours: "internal error" with its stack, exit 1.
 */
export class SupervisorError extends Error {
  override name = 'SupervisorError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Bad input (exit 2): a setting, flag, command line, token or file the user gave; the message names it and what is allowed. */
export class UsageError extends SupervisorError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.badInput);
  }
}

/** The supervisor cannot start (exit 1), e.g. the public port cannot be bound. */
export class StartFailure extends SupervisorError {
  override name = 'StartFailure';
  constructor(message: string) {
    super(message, EXIT.failed);
  }
}

/** The gateway command (or the openclaw CLI) is not found or not executable (exit 127). */
export class CommandNotFoundError extends SupervisorError {
  override name = 'CommandNotFoundError';
  constructor(message: string) {
    super(message, EXIT.commandNotFound);
  }
}

/** The one line src/cli.ts prints for a SupervisorError. */
export const errorLine = (error: SupervisorError): string => `openclaw-supervisor: ${error.message}`;
