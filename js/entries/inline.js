// `userexport/inline` entry, copied to pkg/inline.js by scripts/build.mjs (paths are relative to pkg/): the
// same API with the wasm inside the JavaScript, for a bundler or runtime that cannot load a `.wasm` file
// (esbuild without a loader, a Node bundle moved away from node_modules). It costs a third more bytes.
import * as glue from './userexport.js';
import { makeHarness } from '../js/harness.js';
import wasmBase64 from './userexport_bg.wasm.base64.js';

// atob is in every runtime this package supports (Uint8Array.fromBase64 is not yet in Node 20).
const text = atob(wasmBase64);
const bytes = new Uint8Array(text.length);
for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
glue.initSync({ module: bytes });

export * from './userexport.js';
/** Already initialised at import; kept so code written for `await init()` runs unchanged. */
export default async function init() {}
export const { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport } = makeHarness(glue);
