import semver from 'semver';

/** The newer of two releases (semver order); either may be missing. */
export function newerRelease(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return semver.gt(b, a) ? b : a;
}

/** Whether `nodeVersion` satisfies a release's `engines.node`; a release that names none runs anywhere. */
export function nodeSatisfies(nodeVersion: string, enginesNode: string | null): boolean {
  if (enginesNode === null) return true;
  return semver.satisfies(nodeVersion, enginesNode, { includePrerelease: true });
}
