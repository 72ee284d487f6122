// The jobs list and its lifetime rules, kept as Auth0 keeps export jobs: a download link lives
// 60 s and can be renewed for 24 h; then the job is `expired` and its file deleted. Jobs live in
// origin-private storage (OPFS): jobs.json for the list, exports/<job id> for each file.
import { exportFile } from '../pkg/userexport.js';

export const LINK_MS = 60_000;
export const KEEP_MS = 24 * 3600_000;
// An expired job holds no user data (no file, no skipped records); its row stays one more day
// so a person sees why the export is gone, then it is removed too.
export const FORGET_MS = 2 * KEEP_MS;

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `job_` + 16 random letters/digits, like Auth0's. */
export function newJobId() {
  let id = 'job_';
  while (id.length < 20) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
      if (b < 248 && id.length < 20) id += ID_CHARS[b % 62];
    }
  }
  return id;
}

async function root() {
  return navigator.storage.getDirectory();
}

/** The folder of the jobs' output files (the export worker writes into it too). */
export async function exportsDir() {
  return (await root()).getDirectoryHandle('exports', { create: true });
}

export async function storedFile(id) {
  const dir = await exportsDir();
  return (await dir.getFileHandle(id)).getFile();
}

/**
 * Deletes a job's file. With `wait`, retries (for up to 10 s) while a just-ended worker still
 * holds it open, and resolves once it is gone: a cancelled job leaves no partial file.
 */
export async function deleteExportFile(id, { wait = false } = {}) {
  const dir = await exportsDir();
  for (let tries = 0; ; tries++) {
    try {
      await dir.removeEntry(id);
      return;
    } catch (e) {
      if (e?.name === 'NotFoundError' || !wait || tries >= 100) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Deletes every stored file that is not a completed job's output and not being written:
 * partial output of a failed or interrupted job (a dying worker may still hold its file for a
 * moment, so this runs on every tick and simply retries).
 */
export async function removeOrphans(jobs, running) {
  const dir = await exportsDir();
  for await (const name of dir.keys()) {
    if (running.has(name) || jobs.some((j) => j.id === name && j.status === 'completed')) continue;
    await dir.removeEntry(name).catch(() => {});
  }
}

export async function loadJobs() {
  try {
    const file = await (await (await root()).getFileHandle('jobs.json')).getFile();
    const jobs = JSON.parse(await file.text());
    return Array.isArray(jobs) ? jobs : [];
  } catch {
    return [];
  }
}

let saving = Promise.resolve();
/** Saves are chained so two quick status changes cannot interleave their writes. */
export function saveJobs(jobs) {
  const text = JSON.stringify(jobs, (k, v) => (k === 'link' ? undefined : v));
  saving = saving.then(async () => {
    const w = await (await (await root()).getFileHandle('jobs.json', { create: true })).createWritable();
    await w.write(text);
    await w.close();
  });
  return saving;
}

/**
 * The job as Auth0's GET /api/v2/jobs/{id} shows it, in Auth0's key order; `location` only
 * while a link is valid.
 */
export function jobObject(rec, now) {
  const j = { type: 'users_export', status: rec.status };
  j.format = rec.format;
  if (rec.limit !== undefined) j.limit = rec.limit;
  if (rec.fields) j.fields = rec.fields;
  if (rec.link && rec.link.expiresAt > now) j.location = rec.link.url;
  if (rec.connection) j.connection = rec.connection;
  j.created_at = rec.created_at;
  j.id = rec.id;
  if (rec.status === 'processing' || rec.status === 'pending') {
    j.percentage_done = rec.percentage_done ?? 0;
    if (rec.time_left_seconds !== undefined) j.time_left_seconds = rec.time_left_seconds;
  }
  if (rec.status === 'completed') j.percentage_done = 100;
  if (rec.status_details) j.status_details = rec.status_details;
  return j;
}

/**
 * Applies the clock to every job: drops dead links, expires day-old jobs (deleting their data)
 * and forgets expired ones. Returns true when something changed that must be saved.
 */
export async function sweep(jobs, now) {
  let changed = false;
  for (const rec of [...jobs]) {
    if (rec.link && rec.link.expiresAt <= now) {
      URL.revokeObjectURL(rec.link.url);
      rec.link = null;
    }
    const age = now - Date.parse(rec.created_at);
    if (age >= FORGET_MS) {
      jobs.splice(jobs.indexOf(rec), 1);
      await deleteExportFile(rec.id);
      changed = true;
    } else if (age >= KEEP_MS && rec.status !== 'expired') {
      await expire(rec);
      changed = true;
    }
  }
  return changed;
}

async function expire(rec) {
  if (rec.link) URL.revokeObjectURL(rec.link.url);
  rec.link = null;
  await deleteExportFile(rec.id);
  rec.status = 'expired';
  rec.status_details = 'The job is older than 24 hours: its file and details were deleted.';
  // Skipped records carry user ids and lines: user data, deleted with the file.
  delete rec.skipped;
  delete rec.bytes;
}

/** A fresh 60-second link to the job's file (Auth0's GET /jobs/{id} signs a new location). */
export async function renewLink(rec, now) {
  if (rec.status !== 'completed') return null;
  if (rec.link) URL.revokeObjectURL(rec.link.url);
  // The core names and types the download (<tenant>.csv, text/csv; …) around the stored OPFS
  // file as its one part: that File is backed by disk, so neither the wasm memory nor the blob
  // URL ever holds the export.
  const stored = await storedFile(rec.id);
  // Jobs saved before the request was kept with them carry only their file name.
  const file = rec.request ? exportFile([stored], rec.request, rec.options) : new File([stored], rec.fileName);
  rec.link = { url: URL.createObjectURL(file), name: file.name, type: file.type, expiresAt: now + LINK_MS };
  return rec.link;
}
