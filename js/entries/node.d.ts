// Types of the ESM entries that initialise the wasm at import (Node, workerd, userexport/inline), copied to
// pkg/node.d.ts by scripts/build.mjs. They name only types that Node's and workerd's own globals have:
// no DOM lib needed, unlike the browser entry's (pkg/index.d.ts).
export * from './core.js';
/** A no-op: these entries are ready at import. Kept so code written for browsers (`await init()`) runs unchanged. */
export default function init(): Promise<void>;
