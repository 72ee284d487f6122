// A Cloudflare Worker bundled by `wrangler deploy --dry-run` (tests/bundlers/bundlers.test.mjs): the
// POSTed NDJSON exported with the request in ?request=, as an attachment named after the tenant.
import { exportStream, fileName } from 'userexport';

export default {
  async fetch(req) {
    const request = new URL(req.url).searchParams.get('request');
    return new Response(exportStream(req.body, request, { tenant: 'acme' }), {
      headers: { 'content-disposition': `attachment; filename="${fileName('acme', 'csv')}"` },
    });
  },
};
