import { describe, expect, it } from 'vitest';
import { escapeOptional, escapeUntrusted, terminalSafeJson } from '../../../src/log/untrusted.js';

describe('escapeUntrusted', () => {
  it.each([
    ['plain text', 'linux', 'linux'],
    ['non-Latin letters stay', 'Mac 日本語 ünï', 'Mac 日本語 ünï'],
    ['carriage return', 'linux\rMacIntel', 'linux\\rMacIntel'],
    ['line feed and tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['ESC[2K erase line', 'x\u001b[2Ky', 'x\\x1b[2Ky'],
    ['ESC[8m hidden text', '\u001b[8msecret', '\\x1b[8msecret'],
    ['NUL, BEL, DEL', '\u0000\u0007\u007f', '\\x00\\x07\\x7f'],
    ['C1 CSI (0x9b) and 0x80', '\u009b2K\u0080', '\\x9b2K\\x80'],
    ['right-to-left override U+202E', 'abc\u202Egnp.exe', 'abc\\u202egnp.exe'],
    ['bidi embeddings U+202A-202D', '\u202A\u202B\u202C\u202D', '\\u202a\\u202b\\u202c\\u202d'],
    ['bidi isolates U+2066-2069', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
    ['zero-width and marks', '\u200B\u200E\u200F\uFEFF', '\\u200b\\u200e\\u200f\\ufeff'],
    ['line and paragraph separators', '\u2028\u2029', '\\u2028\\u2029'],
    ['a lone surrogate', 'a\uD800b', 'a\\ud800b'],
    ['a literal backslash cannot pass for an escape', 'not \\x1b', 'not \\\\x1b'],
    ['an emoji (surrogate pair) stays', 'ok 👍', 'ok 👍'],
    ['Arabic letter mark U+061C', 'a\u061Cb', 'a\\u061cb'],
    ['soft hyphen U+00AD', 'pay\u00ADpal', 'pay\\u00adpal'],
    ['Mongolian vowel separator U+180E', 'a\u180Eb', 'a\\u180eb'],
    ['interlinear annotations U+FFF9-FFFB', '\uFFF9a\uFFFAb\uFFFB', '\\ufff9a\\ufffab\\ufffb'],
    ['tag characters U+E0000-E007F (hidden text)', `ok${String.fromCodePoint(0xe0001, 0xe0041, 0xe007f)}`, 'ok\\u{e0001}\\u{e0041}\\u{e007f}'],
    ['private use, BMP and plane 15', `\uE000x${String.fromCodePoint(0xf0000)}`, '\\ue000x\\u{f0000}'],
    ['unassigned code points and noncharacters', `\u0378${String.fromCodePoint(0x2fffe)}\uFFFF`, '\\u0378\\u{2fffe}\\uffff'],
    ['Hangul fillers (letters that render blank)', '\u115F\u1160\u3164\uFFA0', '\\u115f\\u1160\\u3164\\uffa0'],
    ['word joiner and invisible operators U+2060-2064', '\u2060\u2061\u2064', '\\u2060\\u2061\\u2064'],
    ['visible letters next to them stay: Hangul syllables, CJK, accents', '한국 中 é', '한국 中 é'],
  ])('%s', (_name, input, expected) => {
    expect(escapeUntrusted(input)).toBe(expected);
  });

  it.each([
    ['at the limit: unchanged', 'abcde', 5, 'abcde'],
    ['past the limit: cut with an ellipsis', 'abcdef', 5, 'abcde…'],
    ['an escape is never cut in half', 'abc\u001bdef', 5, 'abc…'],
    ['the limit counts the escaped form', '\r\r\r\r\r\r', 6, '\\r\\r\\r…'],
  ])('%s', (_name, input, max, expected) => {
    expect(escapeUntrusted(input, max)).toBe(expected);
  });

  it('bounds by default, and the result has no character a terminal acts on', () => {
    const hostile = `${'\u001b[2K\r\u202e'.repeat(500)}`;
    const shown = escapeUntrusted(hostile);
    expect(shown.length).toBeLessThanOrEqual(121);
    expect(shown).toMatch(/…$/);
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('escapeOptional keeps absence as null', () => {
    expect(escapeOptional(undefined)).toBeNull();
    expect(escapeOptional(null)).toBeNull();
    expect(escapeOptional('a\rb')).toBe('a\\rb');
    expect(escapeOptional(42)).toBe('42');
  });
});

describe('terminalSafeJson', () => {
  it('writes every character a terminal acts on or hides as a JSON escape; a program reads back the same value', () => {
    const value = { platform: `a\r\u001b[2K\u007f\u0085\u009b\u202e\u2066\u00ad\u200b${String.fromCodePoint(0xe0041, 0xf0000)}\u3164\uffa0\u2028b`, list: ['\ud800', 'ünï 日本 👍'], n: 1, ok: true, none: null };
    const text = terminalSafeJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u200b\u2028\u202e\u2066\u3164\uffa0\ud800-\udfff]/u);
    expect(text).toContain('ünï 日本 👍');
    expect(text).toContain('\\udb40\\udc41\\udb80\\udc00');
  });
});
