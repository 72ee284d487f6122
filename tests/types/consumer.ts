// Type-checked by tests/js/types.test.mjs against the package's .d.ts: correct uses compile, misuses do not.
import init, { Exporter, fileName, exportStream, createExportTransform, exportToBlob, downloadExport } from 'userexport';
import type { ExportError, ExportManifest, ExportStats, ExportErrorFields, ErrorCode, ExportRequest, ExportStreamOptions } from 'userexport';

export async function ok(): Promise<void> {
  await init();
  const request: ExportRequest = { format: 'csv', fields: [{ name: 'email', export_as: 'Email' }], limit: 10 };
  const ex = new Exporter(request, { tenant: 'acme', lenient: true, chunkSize: 1024, connection: 'github' });
  new Exporter();
  new Exporter('{"format":"json"}');
  ex.pushUsers([{ email: 'a' }], 0);
  ex.pushJson('{"users":[]}');
  ex.pushNdjson(new Uint8Array([10]));
  ex.finish();
  const chunk: Uint8Array | undefined = ex.pull();
  const written: number = ex.pullInto(new Uint8Array(1024));
  const done: boolean = ex.done && ex.limitReached && written >= 0;
  const stats: ExportStats = ex.stats;
  const errors: ExportErrorFields[] = ex.errors;
  const code: ErrorCode | undefined = errors[0]?.code;
  const manifest: ExportManifest = ex.manifest();
  const sha: string = manifest.plain.sha256 + (manifest.gzip?.sha256 ?? '') + manifest.startedAt;
  const skippedJson: number | undefined = manifest.counts.skippedReasons.invalid_json;
  const name: string = fileName('acme', 'csv', { gzip: true }) + ex.fileName(true);
  ex.free();
  const options: ExportStreamOptions = { gzip: true, input: 'auto', query: 'email.domain:example.com', onEnd: (s) => s.stats.usersWritten };
  const stream: ReadableStream<Uint8Array> = exportStream([{ email: 'a' }], request, options);
  const t = createExportTransform(request);
  const piped: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>().pipeThrough(t);
  const { blob, fileName: f } = await exportToBlob(stream, request, { tenant: 'acme' });
  await downloadExport(blob, request);
  try {
    ex.pull();
  } catch (e) {
    const err = e as ExportError;
    console.log(err.code, err.line, err.index, err.userId, err.statusCode, err.errorCode, err.message);
  }
  console.log(chunk, done, stats, code, name, piped, f, sha, skippedJson);
}

export function misuses(ex: Exporter): void {
  // @ts-expect-error format is "json" | "csv"
  new Exporter({ format: 'xml' });
  // @ts-expect-error options are camelCase
  new Exporter({}, { chunk_size: 5 });
  // @ts-expect-error pull takes nothing and returns bytes
  const s: string = ex.pull();
  // @ts-expect-error pullInto fills a Uint8Array, not a number of bytes
  ex.pullInto(64);
  // @ts-expect-error stats are read-only counts, not a method
  ex.stats();
  // @ts-expect-error the manifest is a method, called once the export is done
  console.log(ex.manifest.plain);
  // @ts-expect-error fileName format
  fileName('acme', 'xml');
  console.log(s);
}
