import { describe, expect, it } from 'vitest';
import { chooseRelease, preflightVerdict } from '../../../src/releases/choose-release.js';

/** The edges release-decisions.test.ts leaves open for chooseRelease and preflightVerdict. */
describe('chooseRelease: no step without a release to step from', () => {
  it('a pin on a fresh state (nothing ran, nothing written) runs the pin, no step', () => {
    expect(chooseRelease({ pinned: '2026.9.4', image: '2026.9.6', lastGood: null, stateWritten: false })).toEqual({ target: '2026.9.4', from: null, step: false });
  });
});

describe('preflightVerdict: versions are numbers or null', () => {
  it.each<[unknown, number | null]>([
    [17, 17],
    ['17', null],
    [null, null],
    [undefined, null],
  ])('foundVersion %j → %j', (value, version) => {
    const report = { schema: 'openclaw.state-schema-preflight.v1', status: 'exact', foundVersion: value, targetVersion: value };
    expect(preflightVerdict(report)).toEqual({ startable: true, status: 'exact', foundVersion: version, targetVersion: version });
  });
});
