import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { READY_PATH } from '../../src/front-door/health.js';
import { parseDockerfile } from '../helpers/dockerfile.js';
import { ROOT } from '../helpers/supervisor.js';

const text = readFileSync(join(ROOT, 'railway.toml'), 'utf8');
const toml = parse(text) as { build: Record<string, unknown>; deploy: Record<string, unknown> };

describe('railway.toml', () => {
  it('builds with the Dockerfile', () => {
    expect(toml.build).toMatchObject({ builder: 'DOCKERFILE', dockerfilePath: 'Dockerfile' });
    expect(existsSync(join(ROOT, toml.build['dockerfilePath'] as string))).toBe(true);
  });

  it('starts node directly on the built CLI that the image ships', () => {
    const argv = String(toml.deploy['startCommand']).split(' ');
    expect(argv[0]).toBe('node');
    expect(argv).not.toContain('npm');
    // /app is the image's WORKDIR, holding the build stage's dist/: the file must exist after a build.
    const workdir = parseDockerfile(join(ROOT, 'Dockerfile')).filter((i) => i.keyword === 'WORKDIR').pop()?.args;
    expect(argv[1]?.startsWith(`${workdir}/`)).toBe(true);
    expect(existsSync(join(ROOT, argv[1]!.slice(`${workdir}/`.length)))).toBe(true);
  });

  it('checks the supervisor readiness endpoint with a timeout that covers a real start', () => {
    expect(toml.deploy['healthcheckPath']).toBe(READY_PATH);
    const timeoutMs = Number(toml.deploy['healthcheckTimeout']) * 1000;
    // The gateway needs ~6-10 s, channels up to ~100 s more; the platform must wait at least that
    // long and not give up before the supervisor's own startup timeout would restart the gateway.
    expect(timeoutMs).toBeGreaterThanOrEqual(120_000);
    expect(timeoutMs).toBeGreaterThanOrEqual(DEFAULTS.startupTimeoutMs);
  });

  it('restarts on failure only, and gives the drain time before SIGKILL', () => {
    expect(toml.deploy['restartPolicyType']).toBe('ON_FAILURE');
    expect(Number(toml.deploy['restartPolicyMaxRetries'])).toBeGreaterThan(0);
    const drainingSeconds = Number(toml.deploy['drainingSeconds']);
    expect(drainingSeconds).toBeGreaterThan(0);
    // With Railway's variable set from this key, the supervisor's drain finishes before the SIGKILL
    // and still leaves the gateway its full stop timeout.
    const invocation = resolveConfig({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: String(drainingSeconds), OPENCLAW_GATEWAY_TOKEN: 'x'.repeat(32) }, []);
    if (invocation.command !== 'run') throw new Error('expected run');
    expect(invocation.config.drainTimeoutSource).toBe('railway');
    expect(invocation.config.drainTimeoutMs).toBeLessThan(drainingSeconds * 1000);
    expect(invocation.config.drainTimeoutMs).toBeGreaterThanOrEqual(invocation.config.stopTimeoutMs);
  });

  it('holds no secret and no variables', () => {
    const entries: Array<[string, unknown]> = [];
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'object' && value !== null) for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
      else entries.push([path, value]);
    };
    walk(toml, '');
    expect(entries.length).toBeGreaterThan(5);
    for (const [path, value] of entries) {
      expect(path).not.toMatch(/token|password|secret|variables|env/i);
      expect(String(value)).not.toMatch(/[A-Za-z0-9_-]{24,}/);
    }
    expect(Object.keys(toml).sort()).toEqual(['build', 'deploy']);
  });
});
