import { SETTINGS, type SettingSpec } from '../config/settings.js';
import { UsageError } from '../errors.js';

/** `openclaw-supervisor [flags] openclaw <args…>` / `devices …`: the CLI next to the supervisor. */
export interface CliSubcommand {
  readonly name: 'openclaw' | 'devices' | 'update';
  /** The supervisor's own flags before the subcommand (settings such as --state-dir). */
  readonly ownArgs: readonly string[];
  /** Everything after the subcommand's name. */
  readonly args: readonly string[];
}

export interface AuditCommand {
  /** The supervisor's own flags before `audit` (settings such as --state-dir). */
  readonly ownArgs: readonly string[];
  readonly json: boolean;
}

const VALUE_FLAGS = new Set(Object.values(SETTINGS).map((setting) => `--${setting.flag}`));

/**
 * The first positional argument after the supervisor's own flags (a setting's flag takes its value
 * along: `--state-dir DIR`), or null when there is none before `--` (the gateway command).
 */
function firstPositional(argv: readonly string[]): { word: string; index: number } | null {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--') return null;
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) index++;
      continue;
    }
    return { word: arg, index };
  }
  return null;
}

/**
 * A setting read before the command is known (SUPERVISOR_RUN_AS decides who runs everything else):
 * its flag among the supervisor's own flags (before the first positional or `--`), else its
 * variable; null when unset. Parsed by the setting's own parser.
 */
export function ownSetting<T>(argv: readonly string[], setting: SettingSpec<T>): T | null {
  const end = firstPositional(argv)?.index ?? (argv.includes('--') ? argv.indexOf('--') : argv.length);
  const flag = `--${setting.flag}`;
  let raw: string | undefined;
  let origin = setting.env;
  for (let index = 0; index < end; index++) {
    const arg = argv[index] ?? '';
    if (arg === flag) [raw, origin] = [argv[index + 1] ?? '', flag];
    else if (arg.startsWith(`${flag}=`)) [raw, origin] = [arg.slice(flag.length + 1), flag];
  }
  raw ??= process.env[setting.env];
  return raw === undefined || raw === '' ? null : setting.parse(raw, origin);
}

/** `openclaw-supervisor [flags] audit [--json]`, or null when the first positional is not `audit`. */
export function findAuditCommand(argv: readonly string[]): AuditCommand | null {
  const found = firstPositional(argv);
  if (found?.word !== 'audit') return null;
  const rest = argv.slice(found.index + 1);
  const unknown = rest.find((entry) => entry !== '--json');
  if (unknown !== undefined) throw new UsageError(`audit takes only --json (got ${JSON.stringify(unknown)}); the supervisor's settings go before "audit"`);
  return { ownArgs: argv.slice(0, found.index), json: rest.includes('--json') };
}

/** Finds `openclaw`/`devices`/`update` as the first positional argument (after the supervisor's flags), or null. */
export function findCliSubcommand(argv: readonly string[]): CliSubcommand | null {
  const found = firstPositional(argv);
  if (found === null || (found.word !== 'openclaw' && found.word !== 'devices' && found.word !== 'update')) return null;
  return { name: found.word, ownArgs: argv.slice(0, found.index), args: argv.slice(found.index + 1) };
}
