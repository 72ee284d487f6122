// Cloudflare Workers entry of userexport, copied to pkg/workerd.js by scripts/build.mjs (paths are relative
// to pkg/). In workerd (wrangler, miniflare) a `.wasm` import is an already compiled WebAssembly.Module.
import wasmModule from './userexport_bg.wasm';
import * as glue from './userexport.js';
import { makeHarness } from '../js/harness.js';

glue.initSync({ module: wasmModule });

export * from './userexport.js';
/** Already initialised in workerd; kept so code written for browsers (`await init()`) runs unchanged. */
export default async function init() {}
export const { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport } = makeHarness(glue);
