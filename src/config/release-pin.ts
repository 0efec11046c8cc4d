import semver from 'semver';
import { UsageError } from '../errors.js';

/** SUPERVISOR_OPENCLAW_VERSION: one release of openclaw, or whatever the registry calls `latest` at start. */
export type ReleasePin = { readonly kind: 'exact'; readonly version: string } | { readonly kind: 'latest' };

/**
 * A version exactly as the registry spells it (2026.9.6, 2026.9.1-beta.1), or `latest`. A range
 * (^2026.9, 2026.9.x) is refused: which release runs must not depend on the day of the deploy
 * unless the user says so with `latest`.
 */
export function parseReleasePin(raw: string, origin: string): ReleasePin {
  const value = raw.trim();
  if (value.toLowerCase() === 'latest') return { kind: 'latest' };
  if (semver.valid(value) === value) return { kind: 'exact', version: value };
  throw new UsageError(`${origin}=${JSON.stringify(raw)} is invalid: expected an openclaw release such as 2026.9.6 (exactly as npm lists it: npm view openclaw versions), or latest`);
}
