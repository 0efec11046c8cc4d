/** Bad input from the user: printed as one line (no stack) and the process exits with `exitCode`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
  }
}
