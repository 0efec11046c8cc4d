// One table for the terminal and BENCHMARKS.md alike: markdown is readable in both.

/** A table row; `met` is true, false or null (no goal for this line). */
export const row = (measure, result, reference = '', goal = '', met = null) => ({ measure, result, reference, goal, met });

const verdict = (met) => (met === true ? 'met' : met === false ? '**missed**' : '');

export function markdownTable(benchmarks) {
  const lines = ['| Benchmark | Measure | Result | Reference / side by side | Goal | Verdict |', '| --- | --- | --- | --- | --- | --- |'];
  for (const bench of benchmarks) {
    for (const [i, r] of bench.rows.entries()) {
      const cells = [i === 0 ? bench.title : '', r.measure, r.result, r.reference, r.goal, verdict(r.met)];
      lines.push(`| ${cells.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}
