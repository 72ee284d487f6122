// Type-checked by tests/js/types.test.mjs: a CommonJS consumer sees the Exporter, fileName and streaming types.
import userexport = require('userexport');

const ex = new userexport.Exporter({ format: 'csv' }, { tenant: 'acme' });
const chunk: Uint8Array | undefined = ex.pull();
const name: string = userexport.fileName('acme', 'json');
const stream: ReadableStream<Uint8Array> = userexport.exportStream('{}\n', { format: 'json' }, { tenant: 'acme' });
const options: userexport.ExportStreamOptions = { tenant: 'acme', gzip: true };
console.log(chunk, name, stream, options);
// @ts-expect-error the request must be an object or its JSON text
userexport.exportStream('{}\n', 42);
