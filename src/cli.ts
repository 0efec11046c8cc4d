#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { resolveConfig } from './config/resolve-config.js';
import { SupervisorError, errorLine } from './errors.js';
import { EXIT } from './exit-codes.js';
import { helpText } from './cli/help.js';
import { handOverPid1 } from './cli/pid1.js';
import { findAuditCommand, findCliSubcommand } from './cli/subcommands.js';
import { createLogger } from './log/logger.js';

// Forwarded bodies are external memory: once the heap left after GC passes V8's ~8 MB point,
// incremental marking restarts after every collection and a full mark-compact follows every ~60 ms
// (31 per 1000 1 MB responses, measured on Node 24). Without incremental marking: 0-4 per 1000 and
// a flat CPU cost per response whatever the heap size (bench/gc-remedy.mjs, BENCHMARKS.md). Set here,
// so it holds however the supervisor is started (ENTRYPOINT, Railway's startCommand, npm start); the
// gateway, a child process, is not affected.
v8.setFlagsFromString('--no-incremental-marking');

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(): Promise<number> {
  const audit = findAuditCommand(process.argv.slice(2));
  if (audit !== null) return (await import('./cli/audit.js')).runAudit(audit, process.env);
  const subcommand = findCliSubcommand(process.argv.slice(2));
  if (subcommand !== null) return (await import('./cli/cli-subcommand.js')).runCliSubcommand(subcommand, process.env);
  const invocation = resolveConfig(process.env, process.argv.slice(2));
  switch (invocation.command) {
    case 'help':
      process.stdout.write(`${helpText(version)}\n`);
      return EXIT.ok;
    case 'version':
      process.stdout.write(`${version}\n`);
      return EXIT.ok;
    case 'healthcheck': {
      const { healthcheck } = await import('./cli/healthcheck.js');
      const result = await healthcheck(invocation.host, invocation.publicPort, invocation.timeoutMs);
      (result.code === 0 ? process.stdout : process.stderr).write(`${result.line}\n`);
      return result.code;
    }
    case 'run': {
      const reaper = handOverPid1();
      const log = await createLogger(invocation.config.logLevel);
      const { runSupervisor } = await import('./cli/run-supervisor.js');
      try {
        return await runSupervisor(invocation.config, log, reaper, version);
      } finally {
        log.flush();
      }
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Open handles (the gateway's pipes, timers) must not keep a finished supervisor alive.
    process.exit(code);
  },
  (error: unknown) => {
    // What the supervisor refuses or cannot do: one line, no stack, the code of its kind.
    if (error instanceof SupervisorError) {
      process.stderr.write(`${errorLine(error)}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`openclaw-supervisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failed);
  },
);
