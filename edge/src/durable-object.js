// The Durable Object ExportJobs: per tenant, job records, the queue and the keys; per task, one shard of an export run slice by slice.
import { DurableObject } from 'cloudflare:workers';
import { crc32Combine, gzipHeader, gzipMemberEnd, initSync } from 'userexport';
import wasmModule from 'userexport/userexport_bg.wasm';
import { DAY_MS, JOB_TIMEOUT_MS, TIMEOUT_DETAILS, jobsStub, now, tenantConfig, workConfig } from './config.js';
import { newLinkKey, newSigningKey, signAccessToken, signLink, verifyLink } from './keys.js';
import { freshCheckpoint, runSlice } from './slice.js';
import { gzipPlainSize, shardCount, sourceIsGzip, splitRanges, stage } from './plan.js';
import { DEFAULT_PART_BYTES } from './r2-writer.js';

/** The object that runs task `name` of a job: its own Durable Object, so shards run in parallel. */
const taskStub = (env, jobId, name) => env.JOBS.get(env.JOBS.idFromName(`task:${jobId}:${name}`));
/** A task failed by something other than a bad record (R2, the platform) is tried this often. */
const TASK_ATTEMPTS = 3;

/** The message of a core error with its line moved from shard-local to the stream's numbering. */
function globalError(e, shift) {
  if (typeof e.line !== 'number' || shift === 0) return e;
  const line = e.line + shift;
  const prefix = `line ${e.line}`;
  const message = e.message.startsWith(prefix) ? `line ${line}${e.message.slice(prefix.length)}` : e.message;
  return { ...e, line, message };
}

export class ExportJobs extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    /** Job changes run one at a time: a task's report and the alarm both await R2 and other objects. */
    this.queue = Promise.resolve();
    /** A task's open gunzipping reader between its slices (slice.js); lost with the object, then reopened. */
    this.live = {};
  }

  serial(fn) {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  // --- jobs (the tenant's object) -----------------------------------------------------------

  async create(rec) {
    await this.ctx.storage.put(`job:${rec.id}`, rec);
    await this.wake();
  }

  /** Sets the alarm now unless one is set: an alarm lost with a killed process is set again by the next call. */
  async wake() {
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
    if (rec.status === 'pending' || rec.status === 'processing') await this.wake();
    return rec;
  }

  async remove(rec) {
    await this.ctx.storage.delete(`job:${rec.id}`);
    await deletePrefix(this.env.EXPORTS, `${rec.id}/`);
    if (rec.staged) await this.env.USERS.delete(rec.staged).catch(() => {});
  }

  async purge(nowMs) {
    let removed = 0;
    for (const rec of (await this.ctx.storage.list({ prefix: 'job:' })).values()) {
      if (nowMs - rec.createdMs >= DAY_MS) {
        await this.remove(rec);
        removed++;
      }
    }
    return removed;
  }

  async alarm() {
    const task = await this.ctx.storage.get('task');
    if (task) return this.taskAlarm(task);
    return this.serial(() => this.tenantAlarm());
  }

  /**
   * The tenant's queue: times out jobs past 8 hours, starts pending jobs while fewer than the
   * cap run, checks running ones (their tasks report after every slice; this is the fallback).
   */
  async tenantAlarm() {
    const nowMs = await now(this.env);
    const jobs = [...(await this.ctx.storage.list({ prefix: 'job:' })).values()]
      .filter((r) => r.status === 'pending' || r.status === 'processing')
      .sort((a, b) => a.createdMs - b.createdMs);
    if (jobs.length === 0) return;
    const { maxConcurrent, pollMs } = workConfig(this.env, jobs[0].tenant);
    let running = jobs.filter((r) => r.status === 'processing').length;
    for (const rec of jobs) {
        try {
        if (nowMs - rec.createdMs >= JOB_TIMEOUT_MS) await this.fail(rec, TIMEOUT_DETAILS, nowMs);
        else if (rec.status === 'processing') await this.advance(rec, nowMs, true);
        else if (running < maxConcurrent) {
          running++;
          await this.start(rec, nowMs);
        }
      } catch (e) {
        await this.fail(rec, e?.message ?? String(e), nowMs);
      }
    }
    const left = [...(await this.ctx.storage.list({ prefix: 'job:' })).values()].filter((r) => r.status === 'pending' || r.status === 'processing');
    if (left.length) await this.ctx.storage.setAlarm(Date.now() + pollMs);
  }

  async start(rec, nowMs) {
    const cfg = tenantConfig(this.env, rec.tenant);
    if (!cfg) throw new Error(`The tenant ${rec.tenant} is no longer configured.`);
    rec.status = 'processing';
    rec.startedMs = nowMs;
    rec.percentage_done = 0;
    rec.source = cfg.users;
    rec.tasks = {};
    const gz = await sourceIsGzip(this.env.USERS, cfg.users);
    if (gz === null) throw new Error(`The users source "${cfg.users}" is missing from the USERS bucket.`);
    rec.sourceBytes = (await this.env.USERS.head(cfg.users))?.size;
    const { shardBytes, maxShards } = workConfig(this.env, rec.tenant);
    const plainGuess = gz ? await gzipPlainSize(this.env.USERS, cfg.users, rec.sourceBytes) : 0;
    if (gz && shardCount(plainGuess, shardBytes, maxShards) === 1) {
      // One shard: the source is gunzipped as the slices read it, with no staged copy (a pass
      // of gunzip, R2 writes and reads that one shard does not need).
      rec.phase = 'export';
      rec.phaseMs = nowMs;
      rec.shards = 1;
      await this.spawn(rec, '0', { kind: 'export', gzip: true, source: cfg.users, start: 0, end: null, plainBytes: plainGuess, firstLine: 1, limit: rec.request.limit, writeHeader: true });
    } else if (gz) {
      rec.phase = 'stage';
      rec.staged = `staged/${rec.id}.ndjson`;
      await this.spawn(rec, 'stage', { kind: 'stage', source: cfg.users, dest: rec.staged });
    } else await this.split(rec, cfg.users);
    await this.ctx.storage.put(`job:${rec.id}`, rec);
  }

  /** Cuts the plain source into shards and starts one task per shard. */
  async split(rec, source) {
    const head = await this.env.USERS.head(source);
    if (!head) throw new Error(`The users source "${source}" is missing from the USERS bucket.`);
    const { shardBytes, maxShards } = workConfig(this.env, rec.tenant);
    const ranges = await splitRanges(this.env.USERS, source, head.size, shardCount(head.size, shardBytes, maxShards));
    rec.phase = 'export';
    rec.plainBytes = head.size;
    rec.shards = ranges.length;
    for (const [i, r] of ranges.entries()) {
      await this.spawn(rec, String(i), { kind: 'export', source, start: r.start, end: r.end, firstLine: i === 0 ? 1 : 2, limit: rec.request.limit, writeHeader: i === 0 });
    }
  }

  async spawn(rec, name, spec) {
    const cfg = tenantConfig(this.env, rec.tenant);
    const task = {
      ...spec,
      name,
      jobId: rec.id,
      tenant: rec.tenant,
      request: rec.request,
      connection: rec.connection,
      lenient: cfg?.lenient === true,
      prefix: `${rec.id}/${name}`,
      partBytes: Number(this.env.R2_PART_BYTES) || DEFAULT_PART_BYTES,
    };
    rec.tasks[name] = { ...spec, request: undefined, done: false };
    await taskStub(this.env, rec.id, name).startTask(task);
  }

  /** A task's report after a slice (or the fallback poll's): progress, then the next phase once all are done. */
  async taskUpdate(jobId, name, cp) {
    return this.serial(() => this.applyUpdate(jobId, name, cp));
  }

  async applyUpdate(jobId, name, cp) {
    const rec = await this.ctx.storage.get(`job:${jobId}`);
    if (!rec || rec.status !== 'processing' || !rec.tasks?.[name]) return;
    if ((rec.tasks[name].seq ?? -1) >= cp.seq && !cp.done) return;
    Object.assign(rec.tasks[name], cp);
    await this.advance(rec, await now(this.env), false);
    // A job ended: the next queued one may start now.
    if (rec.status !== 'processing') await this.ctx.storage.setAlarm(Date.now());
  }

  async advance(rec, nowMs, poll) {
    const names = rec.phase === 'recut' ? ['recut'] : rec.phase === 'stage' ? ['stage'] : [...Array(rec.shards).keys()].map(String);
    if (poll) {
      for (const n of names.filter((n) => !rec.tasks[n].done)) {
        const cp = await taskStub(this.env, rec.id, n).ensureTask();
        if (cp) Object.assign(rec.tasks[n], cp);
      }
    }
    if (names.every((n) => rec.tasks[n].done)) await this.nextPhase(rec, nowMs);
    else this.progress(rec, nowMs);
    await this.ctx.storage.put(`job:${rec.id}`, rec);
  }

  /** percentage_done and time_left_seconds from the bytes done across shards and the rate so far. */
  progress(rec, nowMs) {
    if (rec.phase === 'stage' || rec.status !== 'processing') return;
    const tasks = rec.phase === 'recut' ? [rec.tasks.recut] : Object.entries(rec.tasks).filter(([n]) => /^\d+$/.test(n)).map(([, t]) => t);
    let total = 0;
    let done = 0;
    for (const t of tasks) {
      // A gzip source read as it is gunzipped: the plain size its trailer states (capped at 99 %).
      total += t.gzip ? t.plainBytes : t.end - t.start;
      done += (t.offset ?? t.start) - t.start;
    }
    rec.percentage_done = total > 0 ? Math.min(99, Math.floor((done * 100) / total)) : 0;
    const elapsed = nowMs - (rec.phaseMs ?? rec.startedMs);
    if (done > 0 && done < total) rec.time_left_seconds = Math.round((elapsed / 1000) * ((total - done) / done));
  }

  async nextPhase(rec, nowMs) {
    if (rec.phase === 'stage') {
      const t = rec.tasks.stage;
      if (t.failed) return this.fail(rec, t.failed.message, nowMs);
      rec.phaseMs = nowMs;
      rec.stagedMs = nowMs - rec.startedMs;
      return this.split(rec, rec.staged);
    }
    // Assemble in order: the lenient errors in the stream's line numbers, `limit` exact.
    const limit = rec.request.limit;
    const parts = [];
    const errors = [];
    // The CRC-32 and length of the whole plain export, for the gzip trailer.
    const member = { crc32: 0, plain: 0 };
    const stats = { usersRead: 0, usersWritten: 0, usersFiltered: 0, usersSkipped: 0, usersMatched: 0, lines: 0 };
    const timing = { slices: 0, sliceMs: 0, plainBytes: 0 };
    const base = rec.phase === 'recut' ? rec.recutBase : null;
    let from = 0;
    if (base) {
      Object.assign(member, base.member);
      parts.push(...base.parts);
      errors.push(...base.errors);
      Object.assign(stats, base.stats);
      from = base.index;
    }
    for (let i = from; i < rec.shards; i++) {
      const t = base && i === from ? rec.tasks.recut : rec.tasks[String(i)];
      if (limit !== undefined && stats.usersWritten >= limit) break;
      const rem = limit === undefined ? undefined : limit - stats.usersWritten;
      if (rem !== undefined && t.limit !== rem && (t.failed || t.written >= rem)) {
        // This shard ran with the whole limit: the users still to write end inside it, so it
        // runs again with the remaining limit and its first line known (at most one shard more).
        rec.phase = 'recut';
        rec.phaseMs = nowMs;
        rec.recutBase = { index: i, parts, errors, stats, member };
        await this.spawn(rec, 'recut', { kind: 'export', gzip: t.gzip, plainBytes: t.plainBytes, source: t.source, start: t.start, end: t.end, firstLine: stats.lines + 1, limit: rem, writeHeader: i === 0 });
        return;
      }
      const shift = stats.lines + 1 - t.firstLine;
      if (t.failed) return this.fail(rec, globalError(t.failed, shift).message, nowMs);
      for (const [seq, [bytes, nErrors, crc32, plain, ms]] of t.slices.entries()) {
        timing.slices++;
        timing.sliceMs += ms ?? 0;
        const key = `${rec.id}/${base && i === from ? 'recut' : i}/${String(seq).padStart(6, '0')}`;
        parts.push([`${key}.gz`, bytes]);
        member.crc32 = crc32Combine(member.crc32, crc32, plain);
        member.plain += plain;
        if (nErrors) {
          const list = await (await this.env.EXPORTS.get(`${key}.errors.json`)).json();
          for (const e of list) errors.push(globalError(e, shift));
        }
      }
      stats.usersRead += t.read;
      stats.usersWritten += t.written;
      stats.usersFiltered += t.filtered;
      stats.usersSkipped += t.skipped;
      stats.usersMatched += t.matched;
      stats.lines += t.lines;
      timing.plainBytes += t.offset - t.start;
    }
    await this.env.EXPORTS.put(`${rec.id}/parts.json`, JSON.stringify({ parts, ...member }));
    if (errors.length) await this.env.EXPORTS.put(`${rec.id}/errors.json`, JSON.stringify(errors));
    rec.status = 'completed';
    rec.endedMs = nowMs;
    rec.percentage_done = 100;
    rec.time_left_seconds = 0;
    rec.errorCount = errors.length;
    delete rec.recutBase;
    rec.stats = {
      ...stats,
      gzipBytes: gzipHeader().length + parts.reduce((n, [, b]) => n + b, 0) + gzipMemberEnd(member.crc32, member.plain).length,
      parts: parts.length,
      slices: Object.values(rec.tasks).reduce((n, t) => n + (t.slices?.length ?? 0), 0),
      sourceBytes: rec.sourceBytes,
      plainBytes: rec.plainBytes ?? timing.plainBytes,
      shards: rec.shards,
      durationMs: nowMs - rec.startedMs,
      // Where the time went: staging a gzip source (when sharded), the export phase (first
      // slice to the last report), and the slices' own time summed over shards (the rest of the
      // export phase is alarm scheduling and reports).
      stageMs: rec.stagedMs ?? 0,
      exportMs: nowMs - (rec.phaseMs ?? rec.startedMs),
      sliceMs: timing.sliceMs,
      // Linear memory of this object's wasm encoder: flat whatever the export's size.
      wasmMemoryBytes: initSync({ module: wasmModule }).memory.buffer.byteLength,
      // The largest linear memory a shard's slices saw in their isolate (locally every shard
      // shares one isolate, so this holds all K Exporters at once).
      wasmPeakBytes: Object.values(rec.tasks).reduce((n, t) => Math.max(n, t.wasmBytes ?? 0), 0),
    };
    if (rec.staged) await this.env.USERS.delete(rec.staged).catch(() => {});
    for (const n of Object.keys(rec.tasks)) await taskStub(this.env, rec.id, n).stopTask();
  }

  async fail(rec, details, nowMs) {
    console.warn(`userexport edge: job ${rec.id} (${rec.tenant}) failed: ${details}`);
    for (const n of Object.keys(rec.tasks ?? {})) await taskStub(this.env, rec.id, n).stopTask().catch(() => {});
    rec.status = 'failed';
    rec.status_details = details;
    rec.endedMs = nowMs;
    delete rec.time_left_seconds;
    delete rec.recutBase;
    await deletePrefix(this.env.EXPORTS, `${rec.id}/`).catch(() => {});
    if (rec.staged) await this.env.USERS.delete(rec.staged).catch(() => {});
    await this.ctx.storage.put(`job:${rec.id}`, rec);
  }

  /** The lenient report of a completed job, in input order with the stream's line numbers. */
  async errors(rec) {
    if (!rec.errorCount) return [];
    return (await this.env.EXPORTS.get(`${rec.id}/errors.json`)).json();
  }

  // --- tasks (one object per shard of a job) ------------------------------------------------

  async startTask(task) {
    if (await this.ctx.storage.get('task')) return this.wake();
    await this.ctx.storage.put({ task, cp: freshCheckpoint(task) });
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** The checkpoint, its alarm set again if the task is unfinished (after a crash); null when stopped. */
  async ensureTask() {
    const cp = await this.ctx.storage.get('cp');
    if (cp && !cp.done) await this.wake();
    return cp ? summary(cp) : null;
  }

  async stopTask() {
    await this.live.stream?.reader.cancel().catch(() => {});
    this.live = {};
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** One slice, its checkpoint stored, the tenant told; the next slice in a new invocation. */
  async taskAlarm(task) {
    const t0 = Date.now();
    let cp = await this.ctx.storage.get('cp');
    if (!cp.done) {
      const { sliceMs } = workConfig(this.env, task.tenant);
      try {
        if (task.kind === 'stage') cp = { ...cp, done: true, size: await stage(this.env, task.source, task.dest, task.partBytes), seq: 1 };
        else {
          cp = await runSlice(this.env, task, cp, sliceMs, this.live);
          cp.slices[cp.slices.length - 1].ms = Date.now() - t0;
        }
      } catch (e) {
        const attempts = (cp.attempts ?? 0) + 1;
        // A bad record (a core error: it has a code) fails at once; anything else is tried again.
        if (typeof e?.code === 'string' || attempts >= TASK_ATTEMPTS) {
          const failed = { message: e?.message ?? String(e) };
          if (typeof e?.line === 'number') failed.line = e.line;
          cp = { ...cp, done: true, failed, seq: cp.seq + 1 };
        } else {
          console.warn(`userexport edge: task ${task.prefix} attempt ${attempts}: ${e?.message ?? e}`);
          await this.ctx.storage.put('cp', { ...cp, attempts });
          await this.ctx.storage.setAlarm(Date.now() + 1000 * attempts);
          return;
        }
      }
      // Stopped while the slice ran (the job failed or timed out): what it wrote goes too.
      if (!(await this.ctx.storage.get('task'))) {
        await this.live.stream?.reader.cancel().catch(() => {});
        this.live = {};
        return deletePrefix(this.env.EXPORTS, `${task.prefix}/`);
      }
      await this.ctx.storage.put('cp', cp);
      if (!cp.done) await this.ctx.storage.setAlarm(Date.now());
    }
    // The tenant's own alarm asks again if this report is lost.
    await jobsStub(this.env, task.tenant)
      .taskUpdate(task.jobId, task.name, summary(cp))
      .catch((e) => console.warn(`userexport edge: report of ${task.prefix}: ${e?.message ?? e}`));
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

/** What a task reports: its checkpoint (slices as [bytes, errors, crc32, plain bytes, ms]). */
function summary(cp) {
  return { ...cp, slices: cp.slices.map((sl) => [sl.bytes, sl.errors, sl.crc32, sl.plain, sl.ms]) };
}

/** Deletes every object under `prefix` (R2 lists at most 1000 keys a call). */
async function deletePrefix(bucket, prefix) {
  let cursor;
  do {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
