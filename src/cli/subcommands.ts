import { SETTINGS } from '../config/settings.js';
import { UsageError } from '../config/usage-error.js';

export interface AuditCommand {
  /** The supervisor's own flags before `audit` (settings such as --state-dir). */
  readonly ownArgs: readonly string[];
  readonly json: boolean;
}

const VALUE_FLAGS = new Set(Object.values(SETTINGS).map((setting) => `--${setting.flag}`));

/** `openclaw-supervisor [flags] audit [--json]`, or null when the first positional is not `audit`. */
export function findAuditCommand(argv: readonly string[]): AuditCommand | null {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--') return null;
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) index++; // `--state-dir DIR`: skip the value
      continue;
    }
    if (arg !== 'audit') return null;
    const rest = argv.slice(index + 1);
    const unknown = rest.find((entry) => entry !== '--json');
    if (unknown !== undefined) throw new UsageError(`audit takes only --json (got ${JSON.stringify(unknown)}); the supervisor's settings go before "audit"`);
    return { ownArgs: argv.slice(0, index), json: rest.includes('--json') };
  }
  return null;
}
