import { describe, expect, it } from 'vitest';
import { EMPTY_FOLD, foldStep, gatewayLineKind, type FoldInput, type FoldOutput, type FoldState } from '../../../src/log/fold.js';

const OPTIONS = { reportEveryMs: 60_000, resetMs: 600_000 };

/** Runs the inputs through foldStep; what was printed, as short strings: the line, or `×N since T`. */
function run(inputs: readonly FoldInput[]): string[] {
  let state: FoldState = EMPTY_FOLD;
  const printed: string[] = [];
  for (const input of inputs) {
    const step = foldStep(state, input, OPTIONS);
    state = step.state;
    printed.push(...step.out.map((out: FoldOutput) => (out.type === 'line' ? out.text : `${out.sample} ×${out.count} since ${out.since}`)));
  }
  return printed;
}

const line = (kind: string | null, text: string, at: number): FoldInput => ({ type: 'line', kind, text, at });
const flush = (at: number): FoldInput => ({ type: 'flush', at });

describe('foldStep', () => {
  it.each<[string, FoldInput[], string[]]>([
    ['lines of no kind are never folded', [line(null, 'a', 0), line(null, 'a', 1)], ['a', 'a']],
    ['the first of a kind is shown, the repeats are counted and reported before the next other line', [line('k', 'w1', 0), line('k', 'w2', 5), line('k', 'w3', 10), line(null, 'other', 20)], ['w1', 'w1 ×2 since 0', 'other']],
    ['two kinds are counted apart', [line('k', 'w', 0), line('j', 'v', 1), line('k', 'w', 2), line('j', 'v', 3), line('k', 'w', 4), line(null, 'x', 5)], ['w', 'v', 'w ×2 since 0', 'v ×1 since 1', 'x']],
    ['a new kind brings the counts out first', [line('k', 'w', 0), line('k', 'w', 1), line('j', 'v', 2)], ['w', 'w ×1 since 0', 'v']],
    ['the count at the end (flush), nothing when none is pending', [line('k', 'w', 0), line('k', 'w', 1), flush(2), flush(3)], ['w', 'w ×1 since 0']],
    ['while they keep coming with nothing else, a report at most every reportEveryMs', [line('k', 'w', 0), line('k', 'w', 30_000), line('k', 'w', 60_000), line('k', 'w', 90_000), line('k', 'w', 120_000)], ['w', 'w ×2 since 0', 'w ×2 since 60000']],
    ['shown again in full once resetMs passed since it was shown', [line('k', 'w1', 0), line('k', 'w2', 1), line('k', 'w3', 600_000)], ['w1', 'w1 ×1 since 0', 'w3']],
    ['a reported kind stays folded (only the count comes back)', [line('k', 'w', 0), line('k', 'w', 1), line(null, 'x', 2), line('k', 'w', 3), line(null, 'y', 4)], ['w', 'w ×1 since 0', 'x', 'w ×1 since 2', 'y']],
  ])('%s', (_name, inputs, printed) => {
    expect(run(inputs)).toEqual(printed);
  });

  it('the report names the lines by their sample when one is given', () => {
    const first = foldStep(EMPTY_FOLD, { type: 'line', kind: 'k', text: '[10:00:00] WARN: w', sample: 'WARN: w', at: 0 });
    const second = foldStep(first.state, { type: 'line', kind: 'k', text: '[10:00:05] WARN: w', sample: 'WARN: w', at: 5 });
    expect(foldStep(second.state, { type: 'flush', at: 6 }).out).toEqual([{ type: 'repeated', sample: 'WARN: w', count: 1, since: 0 }]);
  });

  it('does not change the state it was given', () => {
    const first = foldStep(EMPTY_FOLD, line('k', 'w', 0));
    foldStep(first.state, line('k', 'w', 1));
    expect(foldStep(first.state, flush(2)).out).toEqual([]);
  });
});

describe('gatewayLineKind', () => {
  const refusal = (conn: string, request: string, ip: string): string =>
    `[ws] closed before connect conn=${conn} peer=${ip}:5->127.0.0.1:6 remote=127.0.0.1 fwd=${ip} origin=n/a host=h ua=Mozilla code=1008 reason=pairing required: device is not approved yet (requestId: ${request}) phase=auth_validated cause=pairing-required deviceId=abc requestId=${request} reason=not-paired`;

  it.each<[string, [string, string], [string, string], boolean]>([
    ["the gateway's pairing refusal for another connection, request and client", ['WARN', refusal('2c953e04-d7f9-402d-8a24-fd93c99ffd74', 'af550f52-3e08-4545-8d2f-0a56968178fb', '10.9.8.7')], ['WARN', refusal('11111111-d7f9-402d-8a24-fd93c99ffd74', 'bf550f52-3e08-4545-8d2f-0a56968178fb', '10.1.1.1')], true],
    ['another cause is another kind', ['WARN', refusal('c1', 'r1', '10.0.0.1')], ['WARN', refusal('c1', 'r1', '10.0.0.1').replace('cause=pairing-required', 'cause=unauthorized')], false],
    ['another close code is another kind', ['WARN', '[ws] closed before connect conn=a code=1008'], ['WARN', '[ws] closed before connect conn=a code=4001'], false],
    ['another level is another kind', ['WARN', '[gateway] x'], ['ERROR', '[gateway] x'], false],
    ['numbers and hex ids in the words are alike', ['WARN', '[gateway] retry 3 of job 0f3a9c21d4e5'], ['WARN', '[gateway] retry 12 of job 99aa00bb11cc'], true],
    ['other words are another kind', ['WARN', '[gateway] remote model catalog refresh failed'], ['WARN', '[gateway] subagent run sweep skipped: gateway is draining'], false],
    ['a word made of hex letters only is a word', ['WARN', '[gateway] facade added'], ['WARN', '[gateway] decade added'], false],
  ])('%s → same kind: %s', (_name, [levelA, a], [levelB, b], same) => {
    expect(gatewayLineKind(levelA, a) === gatewayLineKind(levelB, b)).toBe(same);
  });
});
