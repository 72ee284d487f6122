// Type-checked by tests/js/types.test.mjs: userexport/inline has the API of the self-initialising entries.
import init, { Exporter, exportStream, fileName } from 'userexport/inline';

export async function inline(): Promise<string> {
  await init();
  const ex = new Exporter({ format: 'json' }, { tenant: 'acme' });
  ex.pushUsers([{ user_id: 'auth0|1' }]);
  ex.finish();
  const first: Uint8Array | undefined = ex.pull();
  const stream: ReadableStream<Uint8Array> = exportStream('{}\n', { format: 'csv' });
  console.log(first, stream);
  // @ts-expect-error fileName's format is "json" | "csv"
  fileName('acme', 'xml');
  return fileName('acme', 'json');
}
