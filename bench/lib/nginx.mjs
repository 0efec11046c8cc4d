// nginx as the peer to beat: a plain WebSocket-capable reverse proxy on loopback, configured the
// way its documentation recommends, in a temp prefix of its own so it never touches /etc/nginx,
// /var/log/nginx or a system nginx that may be running.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.mjs';
import { start } from './procs.mjs';

export async function startNginx(nginxPath, upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-bench-nginx-'));
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  // One worker: the supervisor is one Node event loop, and the machine has 2 cores that the load
  // generator and the echo server need too. As root, workers would switch to `nobody`; keep root so
  // the temp dirs stay writable.
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  const config = `
${user}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # The documented WebSocket recipe: Connection: upgrade only when the client asked for one,
  # so plain requests keep the upstream keep-alive connections.
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream gateway {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
      # Default buffering, but never spill a 1 MB body to disk: the supervisor streams from memory too.
      proxy_max_temp_file_size 0;
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, config);
  const proc = start(nginxPath, ['-p', `${dir}/`, '-c', confPath, '-e', join(dir, 'error.log')]);
  try {
    await Promise.race([
      waitForPort(port, { timeoutMs: 10_000 }),
      proc.exited.then((exit) => {
        throw new Error(`nginx exited (${exit.code ?? exit.signal}) at start: ${proc.output.slice(-5).join(' | ')}`);
      }),
    ]);
  } catch (error) {
    await proc.stop('SIGKILL', 1000);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    /** The master and its worker (the worker does the proxying). */
    proc,
    async stop() {
      // SIGTERM is nginx's fast shutdown; the group kill in proc.stop catches a stuck worker.
      await proc.stop('SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
