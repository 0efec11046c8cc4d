// wrk runs in its own process (C, one thread), so the load generator's cost is small and the same
// for every path; its Lua `done` hook gives exact figures instead of rounded human units.
import { join } from 'node:path';
import { runToEnd } from './procs.mjs';

const REPORT = join(import.meta.dirname, 'wrk-report.lua');

/** Runs wrk for `seconds` (whole seconds: wrk's minimum unit), with extra request `headers`, and returns rps, p50, p99. */
export async function runWrk(wrkPath, url, { connections, seconds, headers = {} }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]), '-s', REPORT, url];
  const { code, lines } = await runToEnd(wrkPath, args, { timeoutMs: (seconds + 15) * 1000 });
  const json = lines.filter((line) => line.startsWith('{')).pop();
  if (code !== 0 || !json) throw new Error(`wrk ${args.join(' ')} failed (${code}): ${lines.slice(-5).join(' | ')}`);
  const report = JSON.parse(json);
  return {
    requests: report.requests,
    rps: report.requests / (report.durationUs / 1e6),
    p50us: report.p50us,
    p99us: report.p99us,
    errors: report.errors + report.non2xx,
    mbps: report.bytes / (report.durationUs / 1e6) / 1e6,
  };
}
