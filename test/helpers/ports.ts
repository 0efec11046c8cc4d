// One implementation, shared with the bench: see supervisor-process.mjs.
export { freePort } from './supervisor-process.mjs';
