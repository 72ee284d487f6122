// The same browser app through userexport/inline, the entry for esbuild (no .wasm loader needed),
// bundled in tests/bundlers/bundlers.test.mjs.
import init, { exportStream } from 'userexport/inline';

window.runExport = async (input, request) => {
  await init();
  const body = new Response(exportStream(input, request, { tenant: 'acme' }));
  return Array.from(new Uint8Array(await body.arrayBuffer()));
};
document.body.dataset.ready = '1';
