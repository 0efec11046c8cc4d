import { expect } from 'vitest';
import { UsageError } from '../../src/errors.js';

/** Runs `fn`, expects a UsageError with exit code 2, and returns its message for further checks. */
export function usageErrorOf(fn: () => unknown): string {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a UsageError to be thrown').toBeInstanceOf(UsageError);
  const error = thrown as UsageError;
  expect(error.exitCode).toBe(2);
  expect(error.name).toBe('UsageError');
  return error.message;
}

/** The async twin of usageErrorOf. */
export async function asyncUsageErrorOf(fn: () => Promise<unknown>): Promise<string> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a UsageError to be rejected').toBeInstanceOf(UsageError);
  const error = thrown as UsageError;
  expect(error.exitCode).toBe(2);
  return error.message;
}

export function expectMentions(message: string, parts: readonly string[]): void {
  for (const part of parts) expect(message).toContain(part);
}
