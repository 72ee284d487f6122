// Type-checked by tests/js/types.test.mjs: a CommonJS consumer sees the Exporter and fileName types.
import userexport = require('userexport');

const ex = new userexport.Exporter({ format: 'csv' }, { tenant: 'acme' });
const chunk: Uint8Array | undefined = ex.pull();
const name: string = userexport.fileName('acme', 'json');
console.log(chunk, name);
