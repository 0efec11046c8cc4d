import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run bench -- --smoke`: every benchmark once, minimally. This only checks that the bench
// still runs end to end and reports every figure as a number; timing goals are the bench's to
// report, never a test's to assert (this machine is shared and noisy). ~60 s on a quiet machine;
// two real-gateway starts (benchmarks 7 and 8 share one) take most of it and stretch to minutes
// when the machine is busy, hence the generous timeout.
const ROOT = resolve(import.meta.dirname, '..');
const BENCHMARKS = ['readiness', 'ws', 'http', 'footprint', 'stop', 'coldstart', 'realgateway', 'realfwd', 'gc', 'burst'];

describe('bench smoke', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every benchmark and writes numeric figures for each', async () => {
    const out = join(dir, 'results.json');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      execFile(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--smoke', `--out=${out}`], { cwd: ROOT, timeout: 230_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolveRun({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, `bench failed:\n${run.stderr.slice(-3000)}`).toBe(0);

    const results = JSON.parse(readFileSync(out, 'utf8')) as { mode: string; benchmarks: Record<string, { error?: string; figures?: Record<string, unknown> }> };
    expect(results.mode).toBe('smoke');
    for (const id of BENCHMARKS) {
      const bench = results.benchmarks[id];
      expect(bench, `benchmark ${id} missing`).toBeDefined();
      expect(bench!.error, `benchmark ${id} failed`).toBeUndefined();
      const figures = Object.entries(bench!.figures ?? {});
      expect(figures.length, `benchmark ${id} has no figures`).toBeGreaterThan(0);
      for (const [name, value] of figures) {
        expect(typeof value === 'number' && Number.isFinite(value), `${id}.${name} = ${String(value)}`).toBe(true);
      }
    }
  }, 240_000);
});
