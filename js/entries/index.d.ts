// Types of the browser and bundler entry of userexport (init() fetches the wasm), copied to pkg/index.d.ts
// by scripts/build.mjs (paths are relative to pkg/). They need the DOM lib (init() takes a RequestInfo or
// a BufferSource); Symbol.dispose is typed in esnext.disposable, which a consumer's `lib` may leave out.
/// <reference lib="esnext.disposable" />
export * from './userexport.js';
export { default } from './userexport.js';
export { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport } from '../js/harness.js';
export type { ExportStreamOptions, ExportSource, ExportSummary, ExportBlob, ImportExport } from '../js/harness.js';
