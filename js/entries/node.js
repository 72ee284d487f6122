// Node ESM entry of userexport, copied to pkg/node.js by scripts/build.mjs (paths are relative to pkg/).
// The wasm beside this file is compiled synchronously at import, so `Exporter` is usable at once.
import { readFileSync } from 'node:fs';
import * as glue from './userexport.js';
import { makeHarness } from '../js/harness.js';

glue.initSync({ module: readFileSync(new URL('./userexport_bg.wasm', import.meta.url)) });

export * from './userexport.js';
/** Already initialised in Node; kept so code written for browsers (`await init()`) runs unchanged. */
export default async function init() {}
export const { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport } = makeHarness(glue);
