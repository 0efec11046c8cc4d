import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mutatedModules } from './modules.mjs';

/**
 * StrykerJS for `npm run mutation` (scripts/mutation.mjs). Each mutant runs in a sandbox copy of
 * src/ and test/unit/ only (not .runtime/ or the other tests), with just the unit tests that cover
 * it (per-test coverage): minutes on 2 cores.
 */

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'scripts/mutation/vitest.config.ts', related: false },
  mutate: mutatedModules(),
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  // Everything but what the unit tests read: the copy per sandbox stays a few MB.
  ignorePatterns: ['/*', '!/src', '!/test', '/test/*', '!/test/unit', '!/test/helpers', '!/package.json', '!/tsconfig.json', '!/scripts', '/scripts/*', '!/scripts/mutation'],
  tempDirName: process.env.MUTATION_TMP ?? join(tmpdir(), `openclaw-stryker-${process.pid}`),
  cleanTempDir: 'always',
  reporters: ['json', 'progress-append-only'],
  jsonReporter: { fileName: 'coverage/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
};
