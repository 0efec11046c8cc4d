import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command as the gateway's spawn will resolve it: a path as is, a bare name through PATH. */
export function resolveExecutable(file: string, pathEnv: string, cwd: string): { found: string | null; tried: string[] } {
  if (file.includes('/')) {
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    return { found: isExecutable(path) ? path : null, tried: [path] };
  }
  const tried = pathEnv
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, file));
  return { found: tried.find(isExecutable) ?? null, tried };
}
