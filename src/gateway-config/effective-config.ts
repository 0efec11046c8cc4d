import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import JSON5 from 'json5';

export type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const MAX_INCLUDE_DEPTH = 10;

/** The gateway's merge of `$include`d content with its siblings: objects merge, arrays concatenate, scalars: siblings win. */
function deepMerge(target: unknown, source: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(source)) return [...target, ...source];
  if (isObject(target) && isObject(source)) {
    const merged: JsonObject = { ...target };
    for (const [key, value] of Object.entries(source)) merged[key] = key in merged ? deepMerge(merged[key], value) : value;
    return merged;
  }
  return source;
}

async function loadFile(path: string, chain: readonly string[]): Promise<unknown> {
  if (chain.includes(path)) throw new Error(`circular $include of ${path}`);
  if (chain.length > MAX_INCLUDE_DEPTH) throw new Error(`$include deeper than ${MAX_INCLUDE_DEPTH} files at ${path}`);
  const parsed: unknown = JSON5.parse(await readFile(path, 'utf8'));
  return processValue(parsed, path, [...chain, path]);
}

async function processValue(value: unknown, file: string, chain: readonly string[]): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => processValue(item, file, chain)));
  if (!isObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key !== '$include') result[key] = await processValue(item, file, chain);
  }
  if (!('$include' in value)) return result;
  const targets = Array.isArray(value['$include']) ? value['$include'] : [value['$include']];
  let included: unknown = {};
  for (const target of targets) {
    if (typeof target !== 'string') throw new Error(`$include in ${file} must be a path or a list of paths`);
    included = deepMerge(included, await loadFile(isAbsolute(target) ? target : resolve(dirname(file), target), chain));
  }
  return Object.keys(result).length === 0 ? included : deepMerge(included, result);
}

/**
 * The gateway config as the gateway will read it: JSON5, `$include`s resolved and merged the way
 * the gateway merges them (openclaw@2026.9.6, dist/includes-*.mjs). Only for reading a few settings
 * (rate limit, origins, proxies): the gateway itself enforces include roots and validates the schema.
 */
export async function readEffectiveConfig(path: string): Promise<{ config: JsonObject | null; error: string | null }> {
  try {
    const config = await loadFile(path, []);
    return isObject(config) ? { config, error: null } : { config: null, error: `${path} does not hold an object` };
  } catch (error) {
    const { code, path: missing } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' && missing === path) return { config: {}, error: null }; // no config yet: the gateway's defaults
    return { config: null, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
}

/** The value at a dotted path of a config, or undefined. */
export function configValue(config: JsonObject | null, path: string): unknown {
  let current: unknown = config;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}
