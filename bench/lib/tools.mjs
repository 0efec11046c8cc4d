// nginx and wrk are Debian packages, not npm ones: the bench looks for them itself and says how to
// get them, instead of failing half-way with a spawn ENOENT.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function which(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** { nginx, wrk } paths, or a message naming what is missing and how to install it. */
export function findTools() {
  // Debian installs nginx in /usr/sbin, which a non-root PATH often lacks.
  const nginx = which('nginx', ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']);
  const wrk = which('wrk');
  const missing = [];
  if (!nginx) missing.push('nginx (Debian: apt-get install -y nginx-light, or nginx)');
  if (!wrk) missing.push('wrk (Debian: apt-get install -y wrk)');
  return { nginx, wrk, missing };
}
