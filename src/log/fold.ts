/**
 * Folding of repeated lines on the terminal: the gateway logs the same ~1,100-character warning on
 * every retry of a client (the Control UI's pairing retries, every 5-15 s), which pushes everything
 * else off a person's screen. The first line of a kind is shown; later ones of that kind are
 * counted, and the count is shown as one line ("… repeated N times") before the next other line, at
 * most once a minute while they keep coming, and at the end. A kind shown longer than `resetMs` ago
 * is shown in full again. Pure: the caller passes the time, so every sequence is a table row.
 */

export interface FoldOptions {
  /** While a kind keeps repeating with nothing else shown, its count is reported at most this often. */
  readonly reportEveryMs: number;
  /** A kind last shown in full this long ago is shown in full again (its context is off the screen). */
  readonly resetMs: number;
}

export const DEFAULT_FOLD: FoldOptions = { reportEveryMs: 60_000, resetMs: 600_000 };

interface KindState {
  /** What the report names the lines by. */
  readonly sample: string;
  readonly shownAt: number;
  readonly reportedAt: number;
  /** Lines of this kind since the last one shown or reported. */
  readonly pending: number;
}

export type FoldState = ReadonlyMap<string, KindState>;

export type FoldInput =
  /** `kind` null: a line that is never folded (it still brings the counts out first). */
  | { readonly type: 'line'; readonly kind: string | null; readonly text: string; readonly at: number; readonly sample?: string }
  | { readonly type: 'flush'; readonly at: number };

export type FoldOutput = { readonly type: 'line'; readonly text: string } | { readonly type: 'repeated'; readonly sample: string; readonly count: number; readonly since: number };

export const EMPTY_FOLD: FoldState = new Map();

function reports(state: Map<string, KindState>, at: number, only?: string): FoldOutput[] {
  const out: FoldOutput[] = [];
  for (const [kind, entry] of state) {
    if (entry.pending === 0 || (only !== undefined && kind !== only)) continue;
    out.push({ type: 'repeated', sample: entry.sample, count: entry.pending, since: entry.reportedAt });
    state.set(kind, { ...entry, pending: 0, reportedAt: at });
  }
  return out;
}

/** One step: the next state and what to print now, in order. */
export function foldStep(previous: FoldState, input: FoldInput, options: FoldOptions = DEFAULT_FOLD): { state: FoldState; out: FoldOutput[] } {
  const state = new Map(previous);
  if (input.type === 'flush') return { state, out: reports(state, input.at) };
  const { kind, text, at } = input;
  const seen = kind === null ? undefined : state.get(kind);
  if (kind !== null && seen !== undefined && at - seen.shownAt < options.resetMs) {
    state.set(kind, { ...seen, pending: seen.pending + 1 });
    return { state, out: at - seen.reportedAt >= options.reportEveryMs ? reports(state, at, kind) : [] };
  }
  const out = reports(state, at);
  out.push({ type: 'line', text });
  if (kind !== null) state.set(kind, { sample: input.sample ?? text, shownAt: at, reportedAt: at, pending: 0 });
  return { state, out };
}

/**
 * The kind of a gateway line: its words before the first `key=value` (digits and long hex ids made
 * alike), with the level and the values of `cause=` and `code=`, which tell refusals apart. The
 * same warning for another client, connection or request id is the same kind.
 */
export function gatewayLineKind(level: string, text: string): string {
  const firstField = text.search(/\s[\w.-]+=/);
  const head = (firstField === -1 ? text : text.slice(0, firstField))
    .replace(/\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b/gi, '#')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '#')
    .replace(/\d+/g, '#')
    .trim();
  const tell = ['cause', 'code']
    .map((key) => new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(text)?.[1])
    .filter((value) => value !== undefined)
    .join(' ');
  return `${level}|${head}|${tell}`;
}
