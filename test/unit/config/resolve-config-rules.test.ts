import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import { usageErrorOf } from '../usage-error-assert.js';

/** The refusals resolve-config.test.ts leaves open, with the exact message. */
type Env = Record<string, string | undefined>;
const errorOf = (env: Env, argv: readonly string[] = []): string => usageErrorOf(() => resolveConfig(env, argv, '/home/tester'));

describe('resolveConfig: refusals, word for word', () => {
  it.each<[string, Env, string[], string]>([
    [
      'a release pin with a gateway command after --',
      { SUPERVISOR_OPENCLAW_VERSION: '2026.9.4' },
      ['--', 'node', 'dist/index.js', 'gateway'],
      'SUPERVISOR_OPENCLAW_VERSION chooses the openclaw release the supervisor runs, but a gateway command follows --: drop one of the two',
    ],
    [
      'the metrics port on the public port',
      { SUPERVISOR_METRICS_PORT: '8080' },
      [],
      'SUPERVISOR_METRICS_PORT=8080 equals PORT=8080: metrics are served on a listener of their own, on a port nobody else uses',
    ],
    [
      "the metrics port on the gateway's port",
      { SUPERVISOR_METRICS_PORT: '18789' },
      [],
      'SUPERVISOR_METRICS_PORT=18789 equals SUPERVISOR_GATEWAY_PORT=18789: metrics are served on a listener of their own, on a port nobody else uses',
    ],
  ])('%s', (_name, env, argv, message) => {
    expect(errorOf(env, argv)).toBe(message);
  });

  // The stop plan words the problem (src/supervisor/stop-plan.ts); resolveConfig names what to set.
  it.each<[string, Env, string]>([
    [
      "a stop timeout past Kubernetes' default drain",
      { KUBERNETES_SERVICE_HOST: '10.96.0.1', SUPERVISOR_STOP_TIMEOUT_MS: '30000' },
      ": set SUPERVISOR_STOP_TIMEOUT_MS=30000, SUPERVISOR_SHUTDOWN_DELAY_MS=5000 and the Kubernetes default drain deadline (28000 ms) so that the delay and the gateway's grace both fit in the drain",
    ],
    [
      'a stop timeout past the default drain',
      { SUPERVISOR_STOP_TIMEOUT_MS: '9000' },
      ": set SUPERVISOR_STOP_TIMEOUT_MS=9000, SUPERVISOR_SHUTDOWN_DELAY_MS=0 and the default drain deadline (8000 ms) so that the delay and the gateway's grace both fit in the drain",
    ],
    [
      'a stop timeout past SUPERVISOR_DRAIN_TIMEOUT_MS',
      { SUPERVISOR_DRAIN_TIMEOUT_MS: '4000', SUPERVISOR_STOP_TIMEOUT_MS: '5000' },
      ": set SUPERVISOR_STOP_TIMEOUT_MS=5000, SUPERVISOR_SHUTDOWN_DELAY_MS=0 and SUPERVISOR_DRAIN_TIMEOUT_MS (4000 ms) so that the delay and the gateway's grace both fit in the drain",
    ],
  ])('%s: the drain named by its source', (_name, env, ending) => {
    expect(errorOf(env).endsWith(ending)).toBe(true);
  });

  it('a release pin without a gateway command is taken', () => {
    const invocation = resolveConfig({ SUPERVISOR_OPENCLAW_VERSION: '2026.9.4' }, [], '/home/tester');
    expect(invocation.command === 'run' && invocation.config.openclawVersion).toEqual({ kind: 'exact', version: '2026.9.4' });
  });

  it('a metrics port of its own is taken', () => {
    const invocation = resolveConfig({ SUPERVISOR_METRICS_PORT: '9100' }, [], '/home/tester');
    expect(invocation.command === 'run' && invocation.config.metrics).toMatchObject({ port: 9100 });
  });
});
