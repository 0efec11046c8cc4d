import { newerRelease } from './release-versions.js';

/**
 * Which release a start runs, and whether that is a step between versions. Pure.
 * - target: the pin when there is one; else the newer of the image's and the last good one (a
 *   rebuilt image with a newer openclaw is an update; a live update's release survives a restart);
 * - from: the release that last wrote the state: the last good one, or, with no record yet but a
 *   state written before, the image's (what ran before the store existed); null on a fresh state;
 * - step: a release is about to run on state last written by another.
 */
export function chooseRelease(input: { readonly pinned: string | null; readonly image: string | null; readonly lastGood: string | null; readonly stateWritten: boolean }): { target: string | null; from: string | null; step: boolean } {
  const target = input.pinned ?? newerRelease(input.image, input.lastGood);
  const from = input.lastGood ?? (input.stateWritten ? input.image : null);
  return { target, from, step: target !== null && from !== null && from !== target };
}

/** The statuses of `openclaw database preflight --json` (openclaw.state-schema-preflight.v1) under which the target may start. */
const STARTABLE = new Set(['exact', 'startup-repairable', 'migration-required']);

/**
 * The target's verdict on a copied snapshot of the state database: `incompatible` (a newer schema,
 * or drift) and `indeterminate` refuse, as does anything unreadable: a release that cannot prove it
 * can open the state does not get to migrate it.
 */
export function preflightVerdict(report: Record<string, unknown> | null): { startable: boolean; status: string; foundVersion: number | null; targetVersion: number | null } {
  const status = typeof report?.['status'] === 'string' ? report['status'] : 'unreadable';
  const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);
  const schemaOk = report?.['schema'] === 'openclaw.state-schema-preflight.v1';
  return { startable: schemaOk && STARTABLE.has(status), status: schemaOk ? status : 'unreadable', foundVersion: num(report?.['foundVersion']), targetVersion: num(report?.['targetVersion']) };
}
