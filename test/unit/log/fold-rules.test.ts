import { describe, expect, it } from 'vitest';
import { EMPTY_FOLD, foldStep, gatewayLineKind, type FoldInput, type FoldOutput, type FoldState } from '../../../src/log/fold.js';

/**
 * src/log/fold.ts row by row with the exact output: fold.test.ts compares two lines' kinds, these
 * rows write the kind out, so a rule that changes every kind alike shows too.
 */

describe('gatewayLineKind: level|words before the first key=value|cause and code', () => {
  it.each<{ name: string; level: string; text: string; kind: string }>([
    { name: 'a line without fields is all words', level: 'WARN', text: '[gateway] x', kind: 'WARN|[gateway] x|' },
    { name: 'the words end at the first key=value', level: 'WARN', text: '[ws] closed before connect conn=a peer=b', kind: 'WARN|[ws] closed before connect|' },
    { name: 'a key may hold dots and dashes', level: 'INFO', text: 'msg req.id=5 x-y=1', kind: 'INFO|msg|' },
    { name: 'a key of one letter is a key', level: 'INFO', text: 'msg k=1', kind: 'INFO|msg|' },
    { name: 'key=value at the very start is not a field (no space before it)', level: 'INFO', text: 'level=info msg', kind: 'INFO|level=info msg|' },
    { name: 'code= tells kinds apart', level: 'WARN', text: 'closed conn=a code=1008', kind: 'WARN|closed|1008' },
    { name: 'cause= tells kinds apart', level: 'WARN', text: 'closed conn=a cause=pairing-required', kind: 'WARN|closed|pairing-required' },
    { name: 'cause then code, space-separated, whatever their order in the line', level: 'WARN', text: 'closed code=1008 conn=a cause=pairing-required', kind: 'WARN|closed|pairing-required 1008' },
    { name: 'code= at the start of the line counts', level: 'WARN', text: 'code=7 closed', kind: 'WARN|code=# closed|7' },
    { name: 'errcode= is not code=', level: 'WARN', text: 'closed errcode=5', kind: 'WARN|closed|' },
    { name: 'a UUID in the words is one #', level: 'WARN', text: 'session 2c953e04-d7f9-402d-8a24-fd93c99ffd74 ended', kind: 'WARN|session # ended|' },
    { name: 'a UUID in upper case is one #', level: 'WARN', text: 'session 2C953E04-D7F9-402D-8A24-FD93C99FFD74 ended', kind: 'WARN|session # ended|' },
    { name: 'a long hex id with a digit is one #', level: 'WARN', text: 'job 0f3a9c21d4e5 done', kind: 'WARN|job # done|' },
    { name: 'a hex id of exactly 8 is one #', level: 'WARN', text: 'job 0f3a9c21 done', kind: 'WARN|job # done|' },
    { name: 'a long word of hex letters only stays a word', level: 'WARN', text: 'deadbeefcafe added', kind: 'WARN|deadbeefcafe added|' },
    { name: 'a hex word whose digit comes last is one #', level: 'WARN', text: 'id abcdefab1 x', kind: 'WARN|id # x|' },
    { name: 'numbers are #', level: 'WARN', text: 'retry 3 of 12', kind: 'WARN|retry # of #|' },
    { name: 'the words are trimmed', level: 'WARN', text: '  spaced  out   ', kind: 'WARN|spaced  out|' },
  ])('$name', ({ level, text, kind }) => {
    expect(gatewayLineKind(level, text)).toBe(kind);
  });
});

const OPTIONS = { reportEveryMs: 60_000, resetMs: 600_000 };

function run(inputs: readonly FoldInput[]): { printed: FoldOutput[]; state: FoldState } {
  let state: FoldState = EMPTY_FOLD;
  const printed: FoldOutput[] = [];
  for (const input of inputs) {
    const step = foldStep(state, input, OPTIONS);
    state = step.state;
    printed.push(...step.out);
  }
  return { printed, state };
}

const line = (kind: string | null, text: string, at: number): FoldInput => ({ type: 'line', kind, text, at });
const shown = (text: string): FoldOutput => ({ type: 'line', text });
const repeated = (sample: string, count: number, since: number): FoldOutput => ({ type: 'repeated', sample, count, since });

describe('foldStep: the exact output', () => {
  it.each<{ name: string; inputs: FoldInput[]; printed: FoldOutput[] }>([
    {
      name: 'a kind due for its report reports only itself; another pending kind waits for the next other line',
      inputs: [line('k', 'w', 0), line('j', 'v', 1), line('j', 'v', 2), line('k', 'w', 60_000)],
      printed: [shown('w'), shown('v'), repeated('w', 1, 0)],
    },
    {
      name: 'the kind that waited comes out before the next other line',
      inputs: [line('k', 'w', 0), line('j', 'v', 1), line('j', 'v', 2), line('k', 'w', 3), line('k', 'w', 60_000), line(null, 'x', 60_001)],
      printed: [shown('w'), shown('v'), repeated('w', 2, 0), repeated('v', 1, 1), shown('x')],
    },
    {
      name: 'resetMs counts from when the kind was shown, not from time 0',
      inputs: [line('k', 'w1', 100_000), line('k', 'w2', 699_999), line(null, 'x', 700_000)],
      printed: [shown('w1'), repeated('w1', 1, 100_000), shown('x')],
    },
    {
      name: 'reportEveryMs counts from the last report, not from time 0',
      inputs: [line('k', 'w', 100_000), line('k', 'w', 159_999), line('k', 'w', 160_000)],
      printed: [shown('w'), repeated('w', 2, 100_000)],
    },
    {
      name: 'shown in full again exactly at resetMs, the count brought out first',
      inputs: [line('k', 'w1', 0), line('k', 'w2', 1), line('k', 'w3', 600_000)],
      printed: [shown('w1'), repeated('w1', 1, 0), shown('w3')],
    },
  ])('$name', ({ inputs, printed }) => {
    expect(run(inputs).printed).toEqual(printed);
  });

  it('lines of no kind leave no state behind', () => {
    expect(run([line(null, 'a', 0), line(null, 'b', 1)]).state.size).toBe(0);
  });
});
