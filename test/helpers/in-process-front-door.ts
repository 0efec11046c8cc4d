import pino from 'pino';
import { expect } from 'vitest';
import { FrontDoor, type FrontDoorOptions } from '../../src/front-door/front-door.js';
import { pollUntil } from './proc.js';

/**
 * A FrontDoor in this process on 127.0.0.1 (a free port), in front of a test gateway on
 * `gatewayPort`, ready and silent unless `options` say otherwise. Resolves once it forwards: the
 * engine loads just after listen, and until then every request gets its own 503.
 */
export async function inProcessFrontDoor(gatewayPort: number, options: Partial<FrontDoorOptions> = {}): Promise<{ frontDoor: FrontDoor; port: number }> {
  const frontDoor = new FrontDoor({ host: '127.0.0.1', port: 0, gatewayPort, trustedProxies: [], logger: pino({ level: 'silent' }), gatewayState: () => 'ready', ...options });
  const { port } = await frontDoor.listen();
  expect(await pollUntil(async () => ((await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.status ?? 503) !== 503, 5_000)).toBe(true);
  return { frontDoor, port };
}
