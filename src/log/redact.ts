export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of the secrets in `text`, also in their JSON-escaped form so that a
 * serialized log line is covered too. Secrets shorter than 4 characters are not matched: they would
 * shred ordinary text and are rejected as tokens anyway.
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    needles.add(secret);
    needles.add(JSON.stringify(secret).slice(1, -1));
  }
  if (needles.size === 0) return (text) => text;
  const list = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const needle of list) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
}
