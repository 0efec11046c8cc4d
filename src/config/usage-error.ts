import { BadInputError } from '../errors.js';
import type { EXIT } from '../exit-codes.js';

/**
 * Bad input from the user (exit 2): the name config/ and its tests use for errors.ts's
 * BadInputError. Printed as one line (no stack) by src/cli.ts, like every SupervisorError.
 */
export class UsageError extends BadInputError {
  override name = 'UsageError';
  /**
   * @param exitCode deprecated: a start failure is errors.ts's StartFailure (1), a missing command
   * its CommandNotFoundError (127); kept until the last caller moves.
   */
  constructor(message: string, exitCode?: typeof EXIT.failed | typeof EXIT.commandNotFound) {
    super(message);
    if (exitCode !== undefined) (this as { exitCode: number }).exitCode = exitCode;
  }
}
