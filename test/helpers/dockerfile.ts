import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** The stage (0-based FROM index) the instruction belongs to. */
  readonly stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(path: string): Instruction[] {
  const joined = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, args: match[2]!.trim(), stage });
  }
  return instructions;
}

/** ENV instructions of one stage as a map (both `K=V ...` and `K V` forms). */
export function envOf(instructions: readonly Instruction[], stage: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of instructions.filter((i) => i.stage === stage && i.keyword === 'ENV')) {
    const pairs = args.match(/(\w+)=("[^"]*"|\S+)/g);
    if (pairs) for (const pair of pairs) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1).replace(/^"|"$/g, '');
    else {
      const [name, ...rest] = args.split(/\s+/);
      env[name!] = rest.join(' ');
    }
  }
  return env;
}
