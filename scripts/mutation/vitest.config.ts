import { fileURLToPath } from 'node:url';
import type { Vitest } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import { mutatedModules, testsOf } from './modules.mjs';

/**
 * StrykerJS's vitest runner builds a mutant's result from the tests it collected, so a mutant
 * that makes a module throw on import (a test file that cannot load collects no test) counts as
 * survived (stryker-js#6150). This reporter gives such a file one failed test carrying its load
 * error, so that mutant counts as killed, as the ordinary suite would fail on it.
 */
class LoadFailureAsFailedTest {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.vitest?.state.getFiles() ?? []) {
      if (file.result?.state !== 'fail' || file.tasks.length > 0) continue;
      const errors = file.result.errors ?? [{ message: 'the test file did not load', name: 'Error' }];
      // Only Stryker reads this task (its type, name, file, result), after the run.
      file.tasks.push({ type: 'test', id: `${file.id}_load`, name: 'the test file loads', mode: 'run', file, suite: file, result: { state: 'fail', errors }, meta: {}, context: undefined } as never);
    }
  }
}

/**
 * The tests `npm run mutation` runs against each mutant: the unit tests of the modules it mutates
 * (scripts/mutation/modules.mjs), nothing that starts a process or opens a socket.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: testsOf(mutatedModules()),
    testTimeout: 20_000,
    reporters: ['default', new LoadFailureAsFailedTest()],
  },
});
