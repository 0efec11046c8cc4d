import { describe, expect, it } from 'vitest';
import { formatChanges, formatFailure, formatFindings } from '../../../src/cli/audit.js';

// What a terminal acts on: CR, ESC (erase line, colours, hidden text), C1 CSI, bidi overrides.
const ACTIVE = /[\r\u001b\u009b\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'x\r\u001b[2K\u001b[32mNothing was written\u001b[0m\u001b[8m';

describe('audit output: names and texts it did not choose are shown escaped', () => {
  it('a file name in the state dir (anyone writing there chose it) cannot rewrite the change listing', () => {
    const lines = formatChanges([{ path: `/data/.openclaw/${HOSTILE}`, change: 'created' }, { path: '/data/.openclaw/a\u202etxt.exe', change: 'modified', detail: 'mode 0600 → 0644' }], false);
    expect(lines[1]).toBe('  created  /data/.openclaw/x\\r\\x1b[2K\\x1b[32mNothing was written\\x1b[0m\\x1b[8m');
    expect(lines[2]).toBe('  modified /data/.openclaw/a\\u202etxt.exe (mode 0600 → 0644)');
    expect(lines.join('\n')).not.toMatch(ACTIVE);
  });

  it("the gateway's findings: every field escaped, a multi-line detail one escaped line per line", () => {
    const lines = formatFindings([{ checkId: `id${HOSTILE}`, severity: 'warn', title: `t\u009b2K`, detail: `line one\nline ${HOSTILE}`, remediation: `fix\r\u001b[2K` }]);
    expect(lines).toEqual([
      '  WARN     idx\\r\\x1b[2K\\x1b[32mNothing was written\\x1b[0m\\x1b[8m: t\\x9b2K',
      '           line one',
      '           line x\\r\\x1b[2K\\x1b[32mNothing was written\\x1b[0m\\x1b[8m',
      '           fix: fix\\r\\x1b[2K',
    ]);
  });

  it("the gateway's failure: its error message or its stderr, escaped", () => {
    expect(formatFailure({ code: 1, stdout: JSON.stringify({ error: { message: HOSTILE } }), stderr: '', timedOut: false })).not.toMatch(ACTIVE);
    const line = formatFailure({ code: 1, stdout: '', stderr: `a\nb\n${HOSTILE}\n`, timedOut: false });
    expect(line).toBe("  the gateway's audit failed (exit 1): a | b | x\\r\\x1b[2K\\x1b[32mNothing was written\\x1b[0m\\x1b[8m");
  });
});
