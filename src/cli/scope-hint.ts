import type { Readable } from 'node:stream';

/**
 * The gateway's answer to a client that connected but lacks a scope (openclaw@2026.9.6 keeps this
 * legacy text next to details.code MISSING_SCOPE, and the CLI prints it).
 */
const MISSING_PAIRING_SCOPE = /missing scope:\s*operator\.pairing(?![\w.-])/i;

/**
 * What "missing scope: operator.pairing" means and what to do, in one line. The gateway approves a
 * device silently only over loopback; a CLI on another machine gets the scopes its device was
 * approved for, and asking for more leaves a pending upgrade request (openclaw's docs/cli/devices.md,
 * docs/gateway/pairing.md).
 */
export const PAIRING_SCOPE_HINT =
  'openclaw-supervisor: "missing scope: operator.pairing": the gateway let this CLI in, but not to manage devices: a CLI on another machine has only the scopes its device was approved for. ' +
  "Run the command where the gateway runs (inside its container: openclaw devices list; next to npm start: npm run openclaw -- devices list), or approve this CLI's pending scope upgrade from there (devices list, then devices approve <request id>).\n";

/** The hint when `output` holds the gateway's missing-pairing-scope answer, else null. */
export function pairingScopeHint(output: string): string | null {
  return MISSING_PAIRING_SCOPE.test(output) ? PAIRING_SCOPE_HINT : null;
}

/** The commands whose calls need operator.pairing (devices and node pairing). */
export function needsPairingScope(args: readonly string[]): boolean {
  return args[0] === 'devices' || args[0] === 'nodes';
}

/** Longest text the pattern can span: a chunk boundary inside it must not hide it. */
const CARRY = 64;

/**
 * Passes `stream` on to `out` unchanged and tells, once it has ended, whether the gateway's
 * missing-pairing-scope answer was in it (the output itself is the CLI's; only the hint is ours).
 */
export function teeForScopeHint(stream: Readable, out: NodeJS.WritableStream): Promise<boolean> {
  let carry = '';
  let seen = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    out.write(chunk);
    if (seen) return;
    const text = carry + chunk;
    seen = MISSING_PAIRING_SCOPE.test(text);
    carry = text.slice(-CARRY);
  });
  return new Promise((resolve) => {
    stream.once('close', () => resolve(seen));
    stream.once('error', () => resolve(seen));
  });
}
