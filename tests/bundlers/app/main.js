// A browser app as a new user writes it: the package's "same import", bundled by Vite or webpack in
// tests/bundlers/bundlers.test.mjs. The test calls window.runExport and checks the bytes.
import init, { exportStream } from 'userexport';

window.runExport = async (input, request) => {
  await init();
  const body = new Response(exportStream(input, request, { tenant: 'acme' }));
  return Array.from(new Uint8Array(await body.arrayBuffer()));
};
document.body.dataset.ready = '1';
