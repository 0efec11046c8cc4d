/**
 * Text that a client chose (a device's platform, client id, display name, user agent, Host, ids)
 * made safe to show a person: every character that a terminal would act on, or that hides or
 * reorders what follows, is shown as an escape instead, and the length is bounded. A stranger's
 * `\r`, `ESC[2K` (erase line) or U+202E (right-to-left override) cannot then rewrite the line a
 * person approves from. The backslash is escaped too, so a literal `\x1b` typed by a client
 * reads `\\x1b` and never passes for an escaped control character.
 */
export const DEFAULT_MAX_LENGTH = 120;

const ELLIPSIS = '…';

/**
 * Code points that are invisible or reorder text: format characters (bidi marks, embeddings,
 * overrides and isolates, zero-width characters, BOM, soft hyphen, tag characters U+E0000-E007F,
 * interlinear annotations), private use, unassigned code points, line/paragraph separators, and the
 * Hangul fillers, which are letters that render blank.
 */
const INVISIBLE_CLASS = '\\p{Cf}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}\\u115f\\u1160\\u3164\\uffa0';
const INVISIBLE = new RegExp(`^[${INVISIBLE_CLASS}]$`, 'u');

function escapeCodePoint(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  switch (char) {
    case '\\':
      return '\\\\';
    case '\r':
      return '\\r';
    case '\n':
      return '\\n';
    case '\t':
      return '\\t';
  }
  // C0, DEL and C1 (0x80-0x9f: a terminal may take 0x9b as CSI).
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (INVISIBLE.test(char)) return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  // A lone surrogate (invalid UTF-16) is shown, not passed on.
  if (code >= 0xd800 && code <= 0xdfff) return `\\u${code.toString(16)}`;
  return char;
}

/**
 * `value` as one line of visible text: at most `maxLength` characters, then `…` if it was cut
 * (an escape is never cut in half). Not for secrets: this shows, it does not hide.
 */
export function escapeUntrusted(value: string, maxLength: number = DEFAULT_MAX_LENGTH): string {
  let out = '';
  for (const char of value) {
    const shown = escapeCodePoint(char);
    if (out.length + shown.length > maxLength) return `${out}${ELLIPSIS}`;
    out += shown;
  }
  return out;
}

/** Like escapeUntrusted, for a field that may be absent: null for null/undefined, non-strings as their string form. */
export function escapeOptional(value: unknown, maxLength: number = DEFAULT_MAX_LENGTH): string | null {
  if (value === null || value === undefined) return null;
  return escapeUntrusted(typeof value === 'string' ? value : String(value), maxLength);
}

/** What JSON.stringify leaves raw that a terminal acts on or hides: DEL, C1 and the invisible code points above. */
const JSON_UNSAFE = new RegExp(`[\\u007f-\\u009f${INVISIBLE_CLASS}]`, 'gu');

/**
 * `value` as JSON (2-space indented) that is safe on a terminal and means the same to a program:
 * JSON.stringify escapes C0 controls (ESC too) and lone surrogates; DEL, C1 (0x9b is CSI) and the
 * invisible code points are written as `\uXXXX` escapes as well (astral ones as their surrogate
 * pair), which JSON.parse reads back as the same characters. Only strings can hold them.
 */
export function terminalSafeJson(value: unknown): string {
  return terminalSafeJsonText(JSON.stringify(value, null, 2));
}

/**
 * JSON text (a log line pino wrote) with those code points written as `\uXXXX`: outside strings JSON
 * holds none of them, so the text means the same. The one sink every JSON log line passes
 * (logger.ts), so that a client's text relayed in a gateway line reaches `docker logs` inert.
 */
export function terminalSafeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (char) => {
    let out = '';
    for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
