// The per-tenant Durable Object ExportJobs: job records, exports run one at a time by its alarm, and the tenant's keys.
import { DurableObject } from 'cloudflare:workers';
import { initSync } from 'userexport';
import wasmModule from 'userexport/userexport_bg.wasm';
import { DAY_MS, tenantConfig } from './config.js';
import { newLinkKey, newSigningKey, signAccessToken, signLink, verifyLink } from './keys.js';
import { exportToR2 } from './pump.js';
import { plainSize } from './gunzip.js';
import { DEFAULT_PART_BYTES } from './r2-writer.js';

// Progress is kept in memory for every poll and written to storage this often, so a restarted
// object still shows roughly where the job was.
const PERSIST_EVERY_MS = 2000;

export class ExportJobs extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    /** Progress of the running export, newer than storage between persists. */
    this.live = null;
  }

  // --- jobs ---------------------------------------------------------------------------------

  async create(rec) {
    await this.ctx.storage.put(`job:${rec.id}`, rec);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** The record, or null when it never was, belongs elsewhere, or is past 24 hours (then removed). */
  async read(id, nowMs) {
    const rec = await this.ctx.storage.get(`job:${id}`);
    if (!rec) return null;
    if (nowMs - rec.createdMs >= DAY_MS) {
      await this.remove(rec);
      return null;
    }
    if (this.live?.id === id) Object.assign(rec, this.live.view);
    return rec;
  }

  async remove(rec) {
    await this.ctx.storage.delete(`job:${rec.id}`);
    await this.env.EXPORTS.delete(`${rec.id}/${rec.file}`);
  }

  async purge(nowMs) {
    let removed = 0;
    for (const rec of (await this.ctx.storage.list({ prefix: 'job:' })).values()) {
      if (nowMs - rec.createdMs >= DAY_MS && this.live?.id !== rec.id) {
        await this.remove(rec);
        removed++;
      }
    }
    return removed;
  }

  async alarm() {
    const waiting = [...(await this.ctx.storage.list({ prefix: 'job:' })).values()]
      .filter((r) => r.status === 'pending' || r.status === 'processing')
      .sort((a, b) => a.createdMs - b.createdMs);
    if (waiting.length === 0) return;
    // A job left `processing` by an evicted object starts over: its R2 object is rewritten whole.
    await this.run(waiting[0]);
    if (waiting.length > 1) await this.ctx.storage.setAlarm(Date.now());
  }

  async run(rec) {
    const { env } = this;
    const cfg = tenantConfig(env, rec.tenant);
    const started = Date.now();
    rec.status = 'processing';
    rec.percentage_done = 0;
    delete rec.time_left_seconds;
    await this.ctx.storage.put(`job:${rec.id}`, rec);
    this.live = { id: rec.id, view: { status: 'processing', percentage_done: 0 } };
    let lastPersist = started;
    try {
      if (!cfg) throw new Error(`The tenant ${rec.tenant} is no longer configured.`);
      const source = await env.USERS.get(cfg.users);
      if (!source) throw new Error(`The users source "${cfg.users}" is missing from the USERS bucket.`);
      const total = await plainSize(env.USERS, cfg.users, source.size);
      const onProgress = async (pushed) => {
        const view = { status: 'processing', percentage_done: total > 0 ? Math.min(99, Math.floor((pushed * 100) / total)) : 0 };
        if (pushed > 0 && pushed < total) view.time_left_seconds = Math.round(((Date.now() - started) / 1000) * ((total - pushed) / pushed));
        this.live.view = view;
        if (Date.now() - lastPersist >= PERSIST_EVERY_MS) {
          lastPersist = Date.now();
          await this.ctx.storage.put(`job:${rec.id}`, { ...rec, ...view });
        }
      };
      const partBytes = Number(env.R2_PART_BYTES) || DEFAULT_PART_BYTES;
      const summary = await exportToR2(source.body, rec, cfg.lenient === true, env.EXPORTS, partBytes, onProgress);
      rec.status = 'completed';
      rec.percentage_done = 100;
      rec.time_left_seconds = 0;
      rec.errors = summary.errors;
      rec.stats = {
        ...summary.stats,
        gzipBytes: summary.gzipBytes,
        sourceBytes: source.size,
        plainBytes: total,
        durationMs: Date.now() - started,
        // Linear memory of the wasm encoder after the run: flat whatever the export's size.
        wasmMemoryBytes: initSync({ module: wasmModule }).memory.buffer.byteLength,
      };
    } catch (e) {
      console.warn(`userexport edge: job ${rec.id} (${rec.tenant}) failed: ${e?.message ?? e}`);
      rec.status = 'failed';
      rec.status_details = e?.message ?? String(e);
      rec.percentage_done = this.live.view.percentage_done;
      delete rec.time_left_seconds;
      await env.EXPORTS.delete(`${rec.id}/${rec.file}`).catch(() => {});
    } finally {
      this.live = null;
    }
    await this.ctx.storage.put(`job:${rec.id}`, rec);
  }

  /** For tests and `edge/dev.mjs` only: the whole record, stats included. */
  async inspect(id) {
    return JSON.stringify((await this.ctx.storage.get(`job:${id}`)) ?? null);
  }

  // --- token signing keys (private halves never leave this object) ---------------------------

  /** The signing keys, current first; the first is made at first use. */
  async signingKeys() {
    let keys = await this.ctx.storage.get('signing-keys');
    if (!keys?.length) {
      keys = [await newSigningKey(Date.now())];
      await this.ctx.storage.put('signing-keys', keys);
    }
    return keys;
  }

  /** The JWKS document: the public half of every key not yet revoked. */
  async jwks() {
    return { keys: (await this.signingKeys()).map((k) => k.publicJwk) };
  }

  /** An access token with these claims, signed by the current key. */
  async issueToken(claims) {
    const [current] = await this.signingKeys();
    return signAccessToken(current, claims);
  }

  /** A new current key; the others keep verifying the tokens they signed until revoked. */
  async rotateKeys(nowMs) {
    const keys = await this.signingKeys();
    const next = await newSigningKey(nowMs);
    await this.ctx.storage.put('signing-keys', [next, ...keys]);
    return { kid: next.kid };
  }

  /** Removes a previous key from the JWKS, so every token it signed stops working. */
  async revokeKey(kid) {
    const keys = await this.signingKeys();
    const at = keys.findIndex((k) => k.kid === kid);
    if (at < 0) return { error: 'not_found' };
    if (at === 0) return { error: 'current' };
    keys.splice(at, 1);
    await this.ctx.storage.put('signing-keys', keys);
    return { kid };
  }

  async listKeys() {
    return (await this.signingKeys()).map((k, i) => ({ kid: k.kid, current: i === 0, created_at: new Date(k.createdMs).toISOString() }));
  }

  // --- download links -----------------------------------------------------------------------

  async linkKey() {
    let raw = await this.ctx.storage.get('link-key');
    if (!raw) {
      raw = newLinkKey();
      await this.ctx.storage.put('link-key', raw);
    }
    return raw;
  }

  async signLink(path, expires) {
    return signLink(await this.linkKey(), path, expires);
  }

  async verifyLink(path, expires, signature) {
    return verifyLink(await this.linkKey(), path, expires, signature);
  }
}
