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

/**
 * The side-by-side figures of one case measured over the same rounds on three paths (direct,
 * supervisor, nginx): medians of the rate and latencies, per-round ratios and added p50, and the
 * proxies' CPU per unit. `rate` and `cpu` name the round fields; the figure names follow them
 * (e.g. rate 'rps' → directRps, cpu 'proxyCpuUsPerRequest' → supervisorCpuUsPerRequest).
 */
export function threePathFigures(by, rate, cpu) {
  const Rate = rate[0].toUpperCase() + rate.slice(1);
  const Cpu = cpu.replace(/^proxy/, '');
  const series = (path, key) => by[path].map((round) => round[key]);
  return {
    [`direct${Rate}`]: median(series('direct', rate)),
    [`supervisor${Rate}`]: median(series('supervisor', rate)),
    [`nginx${Rate}`]: median(series('nginx', rate)),
    supervisorOverDirect: medianRatio(series('supervisor', rate), series('direct', rate)),
    nginxOverDirect: medianRatio(series('nginx', rate), series('direct', rate)),
    supervisorOverNginx: medianRatio(series('supervisor', rate), series('nginx', rate)),
    directP50us: median(series('direct', 'p50us')),
    supervisorP50us: median(series('supervisor', 'p50us')),
    nginxP50us: median(series('nginx', 'p50us')),
    directP99us: median(series('direct', 'p99us')),
    supervisorP99us: median(series('supervisor', 'p99us')),
    nginxP99us: median(series('nginx', 'p99us')),
    supervisorAddedP50us: medianDiff(series('supervisor', 'p50us'), series('direct', 'p50us')),
    nginxAddedP50us: medianDiff(series('nginx', 'p50us'), series('direct', 'p50us')),
    [`supervisor${Cpu}`]: median(series('supervisor', cpu)),
    [`nginx${Cpu}`]: median(series('nginx', cpu)),
  };
}
