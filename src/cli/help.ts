import { SETTINGS } from '../config/settings.js';
import { exitCodeLines } from '../exit-codes.js';

/** A setting's line of --help: its flag, variable, what it does and its default, all from its row in SETTINGS. */
export function settingLine(spec: { flag: string; env: string; help: string; default: string }): string {
  const fallback = spec.default === '–' ? '' : ` (default: ${spec.default.replace(/`/g, '')})`;
  return `  --${spec.flag.padEnd(26)} ${spec.env.padEnd(38)} ${spec.help}${fallback}`;
}

export function helpText(version: string): string {
  const rows = Object.values(SETTINGS).map(settingLine);
  return [
    `openclaw-supervisor ${version}: runs the OpenClaw gateway behind a front door on $PORT`,
    '',
    'Usage:',
    '  openclaw-supervisor [flags]                       run the pinned openclaw gateway',
    '  openclaw-supervisor [flags] -- <command> [args]   run another gateway command (e.g. -- node dist/index.js gateway)',
    '  openclaw-supervisor healthcheck [--timeout-ms N]  exit 0 when /readyz answers 200 (Docker HEALTHCHECK)',
    '  openclaw-supervisor [flags] audit [--json]        the gateway\'s own security audit on this setup, plus what it cannot see (~10-20 s; exit 1 if critical)',
    '  openclaw-supervisor [flags] openclaw <args>       the pinned openclaw CLI aimed at this gateway (Node 24, state dir, config, internal port, token)',
    '  openclaw-supervisor [flags] devices               list pending device pairing requests (request id, address, platform, first seen)',
    '  openclaw-supervisor [flags] devices approve <id>  approve the id your browser shows; --latest only with one pending, asks first (or --yes)',
    '  openclaw-supervisor [flags] update --check        the openclaw release running, pinned, last good, and what the registry offers',
    '  openclaw-supervisor [flags] update --to V --yes   step the running supervisor to openclaw V (or latest): backup, preflight, one start, rolled back if not ready',
    '',
    'Settings (flag, environment variable; flags win):',
    ...rows,
    '',
    'The token comes from OPENCLAW_GATEWAY_TOKEN or the token file; never from a flag. Without either,',
    'one is generated and kept in <state dir>/gateway-token (mode 0600).',
    'Exit codes of the supervisor (healthcheck: 0 ready, 1 not; audit: 1 if critical; openclaw <args>: the CLI\'s own):',
    ...exitCodeLines(),
  ].join('\n');
}
