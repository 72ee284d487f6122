// Types of the streaming harness (js/harness.js), re-exported by every ESM entry of userexport.
import type { Exporter, ExportRequest, ExportOptions, ExportStats, ExportErrorFields, Unimportable } from '../pkg/userexport.js';

/** NDJSON or JSON text (the `input` option, detected by default) as bytes or strings, or user objects. */
export type ExportSource =
  | ReadableStream<Uint8Array | string>
  | Blob
  | AsyncIterable<Uint8Array | string | object>
  | Iterable<Uint8Array | string | object>
  | Uint8Array
  | string;

export interface ExportSummary {
  stats: ExportStats;
  /** Skipped records (lenient mode). */
  errors: ExportErrorFields[];
}

export interface ExportStreamOptions extends ExportOptions {
  /** Called once, when every byte has been produced. */
  onEnd?: (summary: ExportSummary) => void;
}

/** Export bytes, produced only as fast as the consumer reads; gzip input is detected and gunzipped. */
export function exportStream(
  source: ExportSource,
  request?: ExportRequest | string,
  options?: ExportStreamOptions,
): ReadableStream<Uint8Array>;

/** NDJSON bytes (or strings) in, export bytes out. */
export function createExportTransform(
  request?: ExportRequest | string,
  options?: ExportStreamOptions,
): TransformStream<Uint8Array | string, Uint8Array>;

export interface ExportBlob extends Partial<ExportSummary> {
  blob: Blob;
  /** `<tenant>.csv`, `<tenant>.json`, + `.gz` with gzip. */
  fileName: string;
}

/** The whole export as a Blob named after the tenant. */
export function exportToBlob(
  source: ExportSource,
  request?: ExportRequest | string,
  options?: ExportStreamOptions,
): Promise<ExportBlob>;

/** Browser pages: exports into a Blob and clicks an `<a download>` named after the tenant. */
export function downloadExport(
  source: ExportSource,
  request?: ExportRequest | string,
  options?: ExportStreamOptions,
): Promise<ExportBlob>;

export interface ImportExport extends ExportSummary {
  /** `<tenant>.import.001.json`, …: JSON arrays for Auth0's bulk-import job, each at most 500,000 bytes. */
  files: File[];
  /** The users left out of the files, in input order, with where and why. */
  unimportable: Unimportable[];
  /** `<tenant>.import.unimportable.json`: the same list as a file. */
  unimportableFile: File;
}

/** Auth0's bulk-import files of a source (the `forImport` option, set here), and the users left out. */
export function exportForImport(
  source: ExportSource,
  request?: ExportRequest | string,
  options?: ExportStreamOptions,
): Promise<ImportExport>;

export function makeHarness(
  exporter: typeof Exporter,
  ready?: () => Promise<unknown>,
): {
  exportStream: typeof exportStream;
  createExportTransform: typeof createExportTransform;
  exportToBlob: typeof exportToBlob;
  downloadExport: typeof downloadExport;
  exportForImport: typeof exportForImport;
};
