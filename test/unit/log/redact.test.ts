import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor } from '../../../src/log/redact.js';

const TOKEN = 'tok_9fQ2xLm7Rv';

describe('createRedactor: plain text', () => {
  it.each<[string, string[], string, string]>([
    ['one occurrence', [TOKEN], `token=${TOKEN}`, `token=${REDACTED}`],
    ['several occurrences', [TOKEN], `${TOKEN} and ${TOKEN}/${TOKEN}`, `${REDACTED} and ${REDACTED}/${REDACTED}`],
    ['adjacent occurrences', [TOKEN], `${TOKEN}${TOKEN}`, `${REDACTED}${REDACTED}`],
    ['inside a URL', [TOKEN], `ws://127.0.0.1:18789/?token=${TOKEN}&x=1`, `ws://127.0.0.1:18789/?token=${REDACTED}&x=1`],
    ['no occurrence', [TOKEN], 'nothing secret here', 'nothing secret here'],
    ['a near miss is left alone', [TOKEN], TOKEN.slice(0, -1), TOKEN.slice(0, -1)],
    ['several secrets', ['secret-one', 'secret-two'], 'secret-two then secret-one', `${REDACTED} then ${REDACTED}`],
    ['a secret containing another: the longer wins', ['abcd', 'abcdefgh'], 'x abcdefgh y abcd', `x ${REDACTED} y ${REDACTED}`],
    ['exactly 4 characters is redacted', ['wxyz'], 'a wxyz b', `a ${REDACTED} b`],
    ['regex metacharacters are literal', ['a.b*c+d?'], 'a.b*c+d? axbbbcd', `${REDACTED} axbbbcd`],
    ['multi-line text', [TOKEN], `line1 ${TOKEN}\nline2 ${TOKEN}\n`, `line1 ${REDACTED}\nline2 ${REDACTED}\n`],
    ['empty text', [TOKEN], '', ''],
  ])('%s', (_name, secrets, text, expected) => {
    expect(createRedactor(secrets)(text)).toBe(expected);
  });
});

describe('createRedactor: JSON-escaped forms', () => {
  it.each<[string, string]>([
    ['a double quote', 'ab"cd"ef'],
    ['a backslash', 'ab\\cd\\ef'],
    ['both', 'q"u\\o"te'],
    ['a tab and a newline', 'tab\there\nnl'],
    ['a control character', 'ctl\u0001chr'],
    ['non-ASCII (not escaped by JSON)', 'géheim€Σ'],
  ])('a secret with %s is redacted in a serialized log line and in plain text', (_name, secret) => {
    const redact = createRedactor([secret]);
    const line = JSON.stringify({ msg: `token is ${secret}`, detail: { again: secret } });
    const redacted = redact(line);
    expect(redacted).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(redacted)).toEqual({ msg: `token is ${REDACTED}`, detail: { again: REDACTED } });
    expect(redact(`plain ${secret} text`)).toBe(`plain ${REDACTED} text`);
  });

  it('redacts a pino-style JSON line with the token in several fields', () => {
    const redact = createRedactor([TOKEN]);
    const line = `${JSON.stringify({ level: 'info', msg: `open http://x/#token=${TOKEN}`, env: { OPENCLAW_GATEWAY_TOKEN: TOKEN }, argv: ['--x', TOKEN] })}\n`;
    const out = redact(line);
    expect(out).not.toContain(TOKEN);
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(3);
    expect(out.endsWith('\n')).toBe(true);
  });
});

describe('createRedactor: secrets that are ignored', () => {
  it.each<[string, string[]]>([
    ['no secrets', []],
    ['an empty secret', ['']],
    ['1-character secret', ['a']],
    ['3-character secret', ['abc']],
    ['several short secrets', ['ab', 'the', 'x']],
  ])('%s: text is returned unchanged', (_name, secrets) => {
    const text = 'a cat, the abc of it, x marks the spot';
    expect(createRedactor(secrets)(text)).toBe(text);
  });

  it('a short secret next to a real one: only the real one is redacted', () => {
    expect(createRedactor(['ab', TOKEN])(`ab ${TOKEN} ab`)).toBe(`ab ${REDACTED} ab`);
  });

  it('copies the secrets: changing the array afterwards changes nothing', () => {
    const secrets = [TOKEN];
    const redact = createRedactor(secrets);
    secrets.push('later-secret');
    expect(redact(`${TOKEN} later-secret`)).toBe(`${REDACTED} later-secret`);
  });
});
