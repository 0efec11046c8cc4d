import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ConfigLocation {
  /** OPENCLAW_CONFIG_PATH as the supervisor gives it to the gateway. */
  readonly configPath: string;
  /** OPENCLAW_INCLUDE_ROOTS additions (overlay mode). */
  readonly includeRoots: readonly string[];
  /** The user's own config file. */
  readonly userConfigPath: string;
}

/** Where prepareGatewayConfig puts the overlay that `$include`s a JSON5 or read-only user config. */
export function overlayPathOf(stateDir: string): string {
  return join(stateDir, 'supervisor', 'openclaw.overlay.json');
}

/**
 * The config the supervisor's gateway reads, found without writing anything (for the openclaw CLI
 * next to a running or stopped supervisor): the overlay when the supervisor made one for this very
 * user config, else the user's file.
 */
export function locateGatewayConfig(stateDir: string, userConfigPath: string | null): ConfigLocation {
  const userPath = userConfigPath ?? join(stateDir, 'openclaw.json');
  const overlayPath = overlayPathOf(stateDir);
  try {
    const overlay = JSON.parse(readFileSync(overlayPath, 'utf8')) as { $include?: unknown };
    if (overlay.$include === userPath) return { configPath: overlayPath, includeRoots: [dirname(userPath)], userConfigPath: userPath };
  } catch {
    // no overlay (or not ours): the user's file is the config
  }
  return { configPath: userPath, includeRoots: [], userConfigPath: userPath };
}
