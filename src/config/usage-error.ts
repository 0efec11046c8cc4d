import { BadInputError } from '../errors.js';

/**
 * Bad input from the user (exit 2): the name config/ and its tests use for errors.ts's
 * BadInputError. Printed as one line (no stack) by src/cli.ts, like every SupervisorError; a start
 * failure is a StartFailure (1), a missing command a CommandNotFoundError (127).
 */
export class UsageError extends BadInputError {
  override name = 'UsageError';
}
