// Types of runtime-path.mjs, for the TypeScript tests that import it.

/** The bin dir of the managed Node 24 under the project root `root`. */
export declare const managedNodeBin: (root: string) => string;

/** `path` (a PATH value) with `nodeBinDir` first. */
export declare const withNodeFirst: (nodeBinDir: string, path?: string) => string;
