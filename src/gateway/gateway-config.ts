import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface GatewayConfigInput {
  readonly stateDir: string;
  readonly userConfigPath: string | null;
  readonly allowedOrigins: readonly string[];
}

/** Only the front door on loopback may attribute clients; never a private range wholesale. */
export const TRUSTED_PROXIES = ['127.0.0.1', '::1'];

/** Writes the supervisor's config overlay and returns its path (placeholder until research lands). */
export async function writeGatewayConfig(input: GatewayConfigInput): Promise<string> {
  const dir = join(input.stateDir, 'supervisor');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'openclaw.json');
  const overlay = {
    gateway: {
      trustedProxies: TRUSTED_PROXIES,
      ...(input.allowedOrigins.length > 0 ? { controlUi: { allowedOrigins: input.allowedOrigins } } : {}),
    },
  };
  await writeFile(path, `${JSON.stringify(overlay, null, 2)}\n`, { mode: 0o600 });
  return path;
}
