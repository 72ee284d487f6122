//! The TypeScript declarations of the door, written beside the bindings (which skip their own), so
//! optional parameters and option objects read as a JS programmer expects.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Auth0's body for POST /api/v2/jobs/users-exports. */
export interface ExportRequest {
  connection_id?: string;
  format?: "json" | "csv";
  limit?: number;
  fields?: { name: string; export_as?: string }[];
}
/** What a host sets beside Auth0's request body. An unknown key is a TypeError (`invalid_argument`). */
export interface ExportOptions {
  /** Names the output file (`<tenant>.csv`); 1–64 of a-z 0-9 - _. Default "export". */
  tenant?: string;
  /** Only users whose identities[0].connection equals this name. */
  connection?: string | null;
  /** Skip bad records and report them in `errors` instead of failing. Default false. */
  lenient?: boolean;
  /** Most bytes one pull() returns. Default 65536. */
  chunkSize?: number;
  /** Longest record accepted, in bytes. Default 32 MiB. */
  maxRecordBytes?: number;
  /** Pull the output gzipped (`fileName()` then ends in .gz): compressed inside wasm.
   *  Gunzipped, exactly the plain export. Default false. */
  gzip?: boolean;
  /** The form of the bytes given to `push()`: "auto" (default: JSON text when the first non-blank
   *  character is `[` or the whole input is one JSON value, else NDJSON), "ndjson" or "json". */
  input?: "auto" | "ndjson" | "json";
  /** Only users Auth0's user-search query (v3 syntax) matches, evaluated in the same pass; a bad
   *  query throws `invalid_query` (statusCode 400) naming the position, before any user is read. */
  query?: string;
  /** Keep the sha256 of the output as it is pulled, for `manifest()`. Default false: hashing costs
   *  about half the export's throughput in wasm. */
  manifest?: boolean;
  /** Write Auth0's bulk-import files instead of the export (pull them with `pullImport()`): JSON
   *  arrays of the properties Auth0's import schema allows, database-connection users only,
   *  `user_id` without its provider prefix, files of at most 500,000 bytes. Cannot be combined
   *  with `fields`, `format: "csv"`, `gzip` or `manifest` (an `invalid_request` error). Default false. */
  forImport?: boolean;
  /** The stream's line number of the first NDJSON byte pushed, for a shard or a resumed export
   *  that starts after line n at a line boundary (pass n + 1): errors then carry the stream's
   *  line numbers, and no BOM is skipped. With a `limit`, pass the users still to write. Default 1. */
  firstLine?: number;
  /** Write the CSV header line. Default true; every shard but the first passes false. */
  writeHeader?: boolean;
  /** With `gzip`: pull a segment of a gzip member (raw deflate ending in a sync flush, no header,
   *  trailer or final block) for an export run in pieces that must be one gzip member: the host
   *  writes gzip's header, the segments in order, `03 00`, and a trailer from `gzipSegment`. */
  gzipSegment?: boolean;
}
/** Why a user is not in the import files (`Exporter.unimportable`). */
export type UnimportableReason =
  | "not_database_connection" | "unknown_provider" | "no_email" | "invalid_email" | "wrong_type"
  | "reserved_app_metadata_key" | "other_connection" | "too_large";
/** A user left out of the import files, with where it was and why. */
export interface Unimportable {
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based index of the user in one pushUsers / pushJson call (plus `firstIndex`). */
  index?: number;
  /** The user's user_id as exported, provider prefix included. */
  userId?: string;
  reason: UnimportableReason;
  message: string;
}
/** A chunk of a `forImport` export: bytes of one import file. */
export interface ImportChunk {
  /** 1-based file number; `fileName` is `<tenant>.import.001.json` for 1. */
  file: number;
  fileName: string;
  bytes: Uint8Array;
  /** These bytes end the file. */
  endsFile: boolean;
}
/** A finished import file. */
export interface ImportFileInfo { file: number; fileName: string; bytes: number; users: number }
export interface ExportStats {
  usersRead: number; usersWritten: number; usersSkipped: number; usersFiltered: number;
  /** Users the query matched (after the connection filter); every such user when there is no query. */
  usersMatched: number;
  bytesIn: number; bytesOut: number; lines: number;
}
/** The sha256 (64 lowercase hex digits) and length of one byte stream. */
export interface ExportDigest { sha256: string; bytes: number }
/** A finished export's manifest (`Exporter.manifest()`), what a `<tenant>.manifest.json` holds. */
export interface ExportManifest {
  tool: "userexport";
  /** The package version that made the export. */
  version: string;
  /** The export's file name (`<tenant>.csv`, with `.gz` when gzipped). */
  file: string;
  /** The request, with the fields exported (the defaults when it named none). */
  request: { connection_id?: string; format: "json" | "csv"; limit?: number; fields: ExportField[] };
  options: { query: string | null; connection: string | null; lenient: boolean; gzip: boolean };
  counts: {
    read: number; matched: number; written: number; filtered: number; skipped: number;
    /** Skipped records per error code, in the order each code first occurred. */
    skippedReasons: Partial<Record<ErrorCode, number>>;
  };
  /** Bytes pushed in, and NDJSON lines read. */
  input: { bytes: number; lines: number };
  /** The plain export (NDJSON or CSV), gzipped or not. */
  plain: ExportDigest;
  /** The gzip file, when the `gzip` option is on; else null. */
  gzip: ExportDigest | null;
  /** When the Exporter was made and when its last byte was pulled (ISO 8601). */
  startedAt: string;
  endedAt: string;
}
/** An export as a host shows it (`describeExport`, `Exporter.describe()`). */
export interface ExportDescription {
  format: "json" | "csv";
  /** `<tenant>.csv`, `<tenant>.json`, with `.gz` when gzipped. */
  fileName: string;
  /** `text/csv;charset=utf-8`, `application/x-ndjson` or `application/gzip`. */
  mimeType: string;
  /** Column names in output order (CSV header cells, NDJSON keys). */
  columns: string[];
  gzip: boolean;
}
/** One field of a request: the Dashboard preset is a list of these. */
export interface ExportField { name: string; export_as?: string }
/** Auth0's error envelope, as its Management API answers. */
export interface Auth0ErrorEnvelope { statusCode: number; error: string; message: string; errorCode?: string }
/** The stable codes of userexport errors (`error.code`). */
export type ErrorCode =
  | "invalid_request" | "invalid_tenant" | "invalid_json" | "not_an_object" | "invalid_utf8"
  | "lone_surrogate" | "duplicate_key" | "too_deep" | "record_too_large" | "unsupported_value"
  | "invalid_state" | "invalid_argument" | "invalid_query" | "invalid_gzip";
/** A bad record: thrown as an Error in strict mode, listed in `errors` in lenient mode. */
export interface ExportErrorFields {
  code: ErrorCode;
  message: string;
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based index of the user (plus `firstIndex`) in one pushUsers / pushJson call. */
  index?: number;
  userId?: string;
  /** 400 for a bad request body. */
  statusCode?: number;
  /** "invalid_body" for a bad request body. */
  errorCode?: string;
}
export type ExportError = Error & ExportErrorFields;

/** Streaming export of users to Auth0's NDJSON or CSV bytes: push input, pull output. */
export class Exporter {
  /** A new export. Errors in `request` are thrown with `statusCode` 400 and `errorCode` "invalid_body". */
  constructor(request?: ExportRequest | string, options?: ExportOptions);
  /** Pushes one user object or an array of them. Only the selected paths are read. Errors give
   *  each user's index in `users` plus `firstIndex` (default 0). */
  pushUsers(users: object | object[], firstIndex?: number): void;
  /** Pushes a JSON text (string or UTF-8 bytes): one user, an array of users, or a Management API page. */
  pushJson(text: string | Uint8Array | ArrayBuffer): void;
  /** Pushes input bytes or strings split anywhere, in the form the `input` option names (by
   *  default the core tells NDJSON from JSON text). */
  push(chunk: string | Uint8Array | ArrayBuffer): void;
  /** Pushes NDJSON: bytes or string chunks split anywhere. */
  pushNdjson(chunk: string | Uint8Array | ArrayBuffer): void;
  /** Says no more input will come. */
  finish(): void;
  /** The next chunk of output, or `undefined` when more input is needed or the export is `done`. */
  pull(): Uint8Array | undefined;
  /** Copies the next output bytes into `target` and returns how many (0: more input needed, or done). */
  pullInto(target: Uint8Array): number;
  /** True once every byte of the export has been pulled. */
  readonly done: boolean;
  /** True once `limit` users are written: the caller may stop reading input. */
  readonly limitReached: boolean;
  /** NDJSON bytes pushed before the end of the last record read (a line boundary): a point to
   *  resume from once pull() has returned `undefined` on plain output. */
  readonly consumedBytes: number;
  /** With `gzipSegment`, once `done`: the CRC-32 and length of the plain bytes in the segment. */
  readonly gzipSegment: { crc32: number; bytes: number } | undefined;
  /** The output format. */
  readonly format: "json" | "csv";
  /** The export's file name; `gzip` defaults to whether this export's output is gzipped. */
  fileName(gzip?: boolean): string;
  /** File name, MIME type and columns of this export. */
  describe(): ExportDescription;
  /** The finished download as a File named after the tenant with the export's MIME type, made of
   *  `parts` (the pulled chunks, or Blobs holding them): no copy of the whole export in wasm memory. */
  toFile(parts: BlobPart[]): File;
  /** Counts so far. */
  readonly stats: ExportStats;
  /** Every record skipped in lenient mode, in input order. */
  readonly errors: ExportErrorFields[];
  /** The next chunk of a `forImport` export (bytes of one file, never two), or `undefined` when
   *  more input is needed or the export is `done`. Throws `invalid_state` without `forImport`. */
  pullImport(): ImportChunk | undefined;
  /** The import files finished so far (all of them once `done`). */
  readonly importFiles: ImportFileInfo[];
  /** The users left out of the import files so far, in input order. */
  readonly unimportable: Unimportable[];
  /** `<tenant>.import.unimportable.json`: the users left out, one JSON object a line in an array. */
  unimportableFile(): File;
  /** How many users were left out so far (those taken by `takeUnimportableJson` included). */
  readonly unimportableCount: number;
  /** The bytes of `<tenant>.import.unimportable.json` for the users left out since the last call,
   *  which then leave memory (`unimportable` no longer holds them); `end` (after the last pull)
   *  adds the list's close. The calls' bytes in order are the whole file. */
  takeUnimportableJson(end?: boolean): Uint8Array;
  /** The manifest of the finished export: request, options, counts, sha256 and length of the
   *  plain and of the gzip bytes (hashed as they were pulled), times. Throws `invalid_state`
   *  before the export is `done`. */
  manifest(): ExportManifest;
  /** Frees the wasm memory of this export (also done by `using`). */
  free(): void;
  [Symbol.dispose](): void;
}

/** Gunzips a stream of gzip members (`cat a.gz b.gz` is one stream) inside wasm: push compressed
 *  bytes split anywhere, pull plain bytes at most `chunkSize` (default 262144) at a time, finish.
 *  Each member's CRC-32 and length are checked; a corrupt, truncated or non-gzip stream throws
 *  `invalid_gzip` naming the compressed byte offset. Memory: the compressed bytes pushed and not
 *  yet read, plus one chunk: push again when `pull()` gives `undefined` and `done` is false. */
export class Gunzip {
  /** An unknown option is a TypeError (`invalid_argument`). */
  constructor(options?: { chunkSize?: number });
  /** Pushes compressed bytes (after `finish()`: `invalid_state`). */
  push(chunk: Uint8Array): void;
  /** Says no more compressed bytes will come: the stream must end after a whole member. */
  finish(): void;
  /** The next plain bytes, or undefined when more input is needed or the stream has ended (`done`). */
  pull(): Uint8Array | undefined;
  /** True once `finish()` was called and every plain byte has been pulled. */
  readonly done: boolean;
  /** Plain bytes pulled so far. */
  readonly plainBytes: number;
  /** Compressed bytes read so far. */
  readonly compressedBytes: number;
  free(): void;
  [Symbol.dispose](): void;
}

/** A store-only zip of import files, written as they come (the page's `<tenant>.import.zip`). */
export class ImportZip {
  constructor();
  /** The archive's bytes for the file `name` holding `data`: its header, then `data`. */
  add(name: string, data: Uint8Array): Uint8Array;
  /** The archive's last bytes (central directory and end record); the archive is then complete. */
  finish(): Uint8Array;
  free(): void;
  [Symbol.dispose](): void;
}

/** File name, MIME type and columns of an export, checked as the Exporter checks them. With
 *  `forImport`: `<tenant>.import.zip` (`application/zip`), the page's one download of an import. */
export function describeExport(request?: ExportRequest | string, options?: ExportOptions): ExportDescription;
/** What `manifestOf` reads: an export run in parts, told by its summed counts. */
export interface PartsSummary {
  /** The parts' `stats`, summed (`bytesOut` may be left out). */
  stats: Omit<ExportStats, "bytesOut"> & { bytesOut?: number };
  /** The `code` of each record skipped, in input order. */
  skipped?: ErrorCode[];
  /** ISO 8601 times, written as given. */
  startedAt: string;
  endedAt: string;
}
/** The manifest of an export a host ran in parts (shards, workers) and joined: `plain` and `gzip` are null until it hashes the joined file. */
export function manifestOf(request: ExportRequest | string | undefined, options: ExportOptions | undefined, summary: PartsSummary): Omit<ExportManifest, "plain"> & { plain: ExportDigest | null };
/** The finished download as a File: `parts` under the name and MIME type `describeExport` gives. */
export function exportFile(parts: BlobPart[], request?: ExportRequest | string, options?: ExportOptions): File;
/** The export's file name: `fileName("acme", "csv", {gzip: true})` is `acme.csv.gz`. */
export function fileName(tenant: string, format: "json" | "csv", options?: { gzip?: boolean }): string;
/** The Dashboard's "Include default fields" preset, with its column names. */
export function dashboardPreset(): ExportField[];
/** Auth0's error envelope `{statusCode, error, message, errorCode?}`: for an error this package
 *  threw, or for a status, a message and an optional errorCode. */
export function errorEnvelope(error: ExportError | number, message?: string, errorCode?: string): Auth0ErrorEnvelope;
/** The form the core tells for input starting with `prefix`: "ndjson", "json", or undefined while
 *  more is needed (never when `complete`). The rule of the `input: "auto"` option. */
export function detectInput(prefix: Uint8Array | string, complete?: boolean): "ndjson" | "json" | undefined;
/** True when bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean;
/** gzip's member header as the core writes it: a host joining `gzipSegment` pieces into one
 *  member writes it, then the segments in order, then `gzipMemberEnd(crc32, bytes)`. */
export function gzipHeader(): Uint8Array;
/** The CRC-32 of A followed by B from crc(A), crc(B) and B's length (zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number;
/** An empty final deflate block and gzip's trailer for plain bytes of this CRC-32 and length. */
export function gzipMemberEnd(crc32: number, length: number): Uint8Array;
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_DISCOVER_TYPES: &'static str = r#"
/** `new Discoverer(options)`: how far field discovery reads and how much it keeps. */
export interface DiscoverOptions {
  /** Records read at most (bad ones included). Default 10000. */
  maxUsers?: number;
  /** Distinct paths kept at most; past it `truncated` is true. Default 1000. */
  maxPaths?: number;
  /** Array elements listed one by one (`[0]` … `[maxIndex - 1]`); the whole array is listed too. Default 3. */
  maxIndex?: number;
  /** Longest example, in characters (cut with "…"). Default 60. */
  maxExampleChars?: number;
  /** The form of the bytes given to `push()`, as the Exporter's `input` option. Default "auto". */
  input?: "auto" | "ndjson" | "json";
}
/** One path users hold, named as a field names it (`user_metadata.plan`, `identities[0].connection`). */
export interface DiscoveredPath {
  path: string;
  /** Users with a value there (`null` included). */
  present: number;
  /** Users whose value there is not `null`, `""`, `{}` or `[]`. */
  filled: number;
  /** The JSON types met there. */
  kinds: ("string" | "number" | "boolean" | "null" | "object" | "array")[];
  /** The first filled value as compact JSON (a string in its quotes), cut to `maxExampleChars`. */
  example?: string;
}
/** What `Discoverer.result()` found so far. */
export interface FieldDiscovery {
  /** Good users walked. */
  users: number;
  /** Records read, bad ones included. */
  usersRead: number;
  /** Bad records skipped (see `errors`). */
  usersSkipped: number;
  /** The whole input was read before `maxUsers`. */
  complete: boolean;
  /** Some path was left out (the list was full, or a path was longer than 256 bytes). */
  truncated: boolean;
  /** Keys no field path can name (empty, or holding `.`, `[` or `]`): not listed. */
  unnamed: number;
  /** In the order first met; an object or array after what it holds. */
  paths: DiscoveredPath[];
}
/** Field discovery: reads the first users of an input through the Exporter's own readers and
 *  lists every path they hold, how often it is filled, and an example. */
export class Discoverer {
  constructor(options?: DiscoverOptions);
  /** Pushes input bytes (or a string) split anywhere; once `full`, the rest is ignored. */
  push(chunk: Uint8Array | string): void;
  /** Pushes a JSON text: one user, an array of users, or a Management API page. */
  pushJson(text: Uint8Array | string): void;
  /** Says no more input will come (a JSON text is read now). */
  finish(): void;
  /** True once `maxUsers` records are read: stop reading. */
  readonly full: boolean;
  /** What was found so far. */
  result(): FieldDiscovery;
  /** The bad records skipped, with line or index and why. */
  readonly errors: ExportErrorFields[];
  free(): void;
  [Symbol.dispose](): void;
}
"#;
