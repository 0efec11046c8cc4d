/**
 * The pure modules `npm run mutation` mutates (decisions from their inputs alone: no socket, no
 * process, no clock of their own), each with the unit tests that call it directly. A run mutates
 * the modules named on its command line (default: all) and runs only their tests.
 */
export const MODULES = {
  'src/front-door/headers.ts': ['test/unit/front-door/admission-rules.test.ts', 'test/unit/front-door/header-rules.test.ts', 'test/unit/front-door/client-attribution.test.ts', 'test/unit/front-door/upstream-request.test.ts'],
  'src/front-door/admission.ts': ['test/unit/front-door/admission-rules.test.ts', 'test/unit/front-door/health.test.ts', 'test/unit/front-door/health-details.test.ts'],
  'src/front-door/client-attribution.ts': ['test/unit/front-door/client-attribution.test.ts', 'test/unit/front-door/client-attribution-rules.test.ts'],
  'src/front-door/upstream-request.ts': ['test/unit/front-door/upstream-request.test.ts', 'test/unit/front-door/header-rules.test.ts', 'test/unit/front-door/client-attribution-rules.test.ts'],
  'src/front-door/upstream-errors.ts': ['test/unit/front-door/upstream-errors.test.ts'],
  'src/front-door/client-errors.ts': ['test/unit/front-door/client-errors.test.ts'],
  'src/front-door/ws-handshake.ts': ['test/unit/front-door/ws-handshake.test.ts', 'test/unit/front-door/ws-handshake-rules.test.ts'],
  'src/front-door/ws-frames.ts': ['test/unit/front-door/ws-frames.test.ts'],
  'src/config/stop-timings.ts': ['test/unit/supervisor/stop.test.ts'],
  'src/front-door/health.ts': ['test/unit/front-door/health.test.ts', 'test/unit/front-door/health-details.test.ts', 'test/unit/front-door/admission-rules.test.ts'],
  'src/config/resolve-config.ts': ['test/unit/config/resolve-config.test.ts', 'test/unit/config/resolve-config-rules.test.ts', 'test/unit/config/settings.test.ts'],
  'src/gateway/restart-policy.ts': ['test/unit/gateway/restart-policy.test.ts', 'test/unit/gateway/restart-policy-rules.test.ts'],
  'src/gateway/lifecycle.ts': ['test/unit/gateway/lifecycle.test.ts'],
  'src/supervisor/state.ts': ['test/unit/supervisor/state.test.ts', 'test/unit/supervisor/state-rules.test.ts'],
  'src/supervisor/stop-plan.ts': ['test/unit/supervisor/stop.test.ts'],
  'src/supervisor/stop.ts': ['test/unit/supervisor/stop.test.ts', 'test/unit/supervisor/stop-records.test.ts'],
  'src/log/fold.ts': ['test/unit/log/fold.test.ts', 'test/unit/log/fold-rules.test.ts'],
  'src/releases/choose-release.ts': ['test/unit/releases/release-decisions.test.ts', 'test/unit/releases/choose-release-rules.test.ts'],
  'src/supervisor/diagnose-signal.ts': ['test/unit/supervisor/diagnose-signal.test.ts', 'test/unit/supervisor/diagnose-signal-rules.test.ts'],
  'src/ops/alert-policy.ts': ['test/unit/ops/alert-policy.test.ts', 'test/unit/ops/alert-policy-rules.test.ts', 'test/unit/ops/health-alerts.test.ts'],
};

/** The modules a run mutates: MUTATION_FILES (comma-separated), else all. */
export function mutatedModules(env = process.env) {
  const files = env.MUTATION_FILES ? env.MUTATION_FILES.split(',') : Object.keys(MODULES);
  const unknown = files.filter((file) => !(file in MODULES));
  if (unknown.length > 0) throw new Error(`not a mutated module (scripts/mutation/modules.mjs): ${unknown.join(', ')}`);
  return files;
}

/** The unit tests of those modules, each once. */
export function testsOf(files) {
  return [...new Set(files.flatMap((file) => MODULES[file]))];
}
