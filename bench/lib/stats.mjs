// Medians, not means: on a shared 2-core machine one preempted run is common and must not move
// the figure. Comparisons are ratios taken within one round (same minute, same noise), and the
// reported ratio is the median of those per-round ratios.

export function median(values) {
  return percentile(values, 50);
}

/** Nearest-rank percentile of finite values; NaN for none. */
export function percentile(values, p) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median of the per-round ratios a[i] / b[i]. */
export function medianRatio(a, b) {
  return median(a.map((value, i) => value / b[i]));
}

/** Median of the per-round differences a[i] - b[i]. */
export function medianDiff(a, b) {
  return median(a.map((value, i) => value - b[i]));
}

/** Least-squares slope of y over x (e.g. stop time per connection). */
export function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

export function fmt(value, unit = '', digits = 1) {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const text = abs >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(abs >= 100 ? 0 : digits);
  return unit ? `${text} ${unit}` : text;
}

export const fmtRatio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
