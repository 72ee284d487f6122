// Browser and bundler entry of userexport, copied to pkg/browser.js by scripts/build.mjs (paths are relative
// to pkg/). `await init()` fetches the wasm from `new URL('userexport_bg.wasm', import.meta.url)`, which
// Vite and webpack rewrite to the emitted asset; the harness functions call it themselves.
import init, * as glue from './userexport.js';
import { makeHarness } from '../js/harness.js';

export * from './userexport.js';
export default init;
export const { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport } = makeHarness(glue, () => init());
