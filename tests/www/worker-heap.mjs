// Memory of the export page while a job runs. The worker's, over the Chrome DevTools Protocol:
// V8 heap used/reserved and ArrayBuffer backing stores (Uint8Arrays; wasm memory is not among
// them), what the page's code holds. And the RSS of the test's own Chromium by process type,
// which also counts Chromium's caches, allocator slack and the wasm heap.
// Used by bench-1m.mjs and tests/www/memory.test.mjs.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Attaches to every dedicated worker the page starts and samples `Runtime.getHeapUsage` every
 * `everyMs`; `stop()` returns the peaks. Playwright gives no CDP session for a worker, so this
 * goes through the page's session in non-flat mode (Target.sendMessageToTarget).
 * With `collectEveryMs`, a full GC is forced that often and the heap then still in use is `live`:
 * what the worker retains, as opposed to garbage V8 has not collected yet.
 */
export async function watchWorkerHeap(context, page, { everyMs = 50, collectEveryMs = 0 } = {}) {
  const cdp = await context.newCDPSession(page);
  const workers = new Set();
  const pending = new Map();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workers.add(e.sessionId);
  });
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const ask = (sessionId, method) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => {
        pending.delete(id);
        resolve({});
      });
    });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const peak = { used: 0, total: 0, backing: 0, sum: 0, samples: 0, page: 0, live: 0, collections: 0 };
  let busy = false;
  let lastCollect = performance.now();
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const collect = collectEveryMs > 0 && performance.now() - lastCollect >= collectEveryMs;
    if (collect) lastCollect = performance.now();
    for (const sid of workers) {
      if (collect && (await ask(sid, 'HeapProfiler.collectGarbage')).result) {
        const r = (await ask(sid, 'Runtime.getHeapUsage')).result;
        if (r) {
          peak.collections++;
          peak.live = Math.max(peak.live, r.usedSize + (r.backingStorageSize ?? 0));
        }
      }
      const r = (await ask(sid, 'Runtime.getHeapUsage')).result;
      if (!r) continue;
      peak.samples++;
      peak.used = Math.max(peak.used, r.usedSize);
      peak.total = Math.max(peak.total, r.totalSize);
      peak.backing = Math.max(peak.backing, r.backingStorageSize ?? 0);
      peak.sum = Math.max(peak.sum, r.totalSize + (r.backingStorageSize ?? 0));
    }
    const p = await cdp.send('Runtime.getHeapUsage').catch(() => null);
    if (p) peak.page = Math.max(peak.page, p.totalSize + (p.backingStorageSize ?? 0));
    busy = false;
  }, everyMs);
  return {
    /**
     * Peaks in bytes: the worker's `used`, `total` (reserved), `backing`, `sum` (total + backing),
     * `live` (used + backing right after a forced GC), and the page's `page` (total + backing).
     */
    stop() {
      clearInterval(timer);
      cdp.detach().catch(() => {});
      return { ...peak };
    },
  };
}

/**
 * RSS (bytes) of one Chromium: the browser started on `profile` and its descendants (zygotes,
 * renderers, GPU, utilities), summed by process type, with the anonymous part apart (file pages
 * such as shared libraries are the kernel's cache). Other Chromiums on the machine don't count.
 */
export function chromiumRss(profile) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.startsWith('/usr/lib/chromium/chromium')) continue;
      const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
      procs.push({ pid, ppid, cmd, status: readFileSync(`/proc/${pid}/status`, 'utf8') });
    } catch {
      // the process ended while being read
    }
  }
  const ours = new Set(procs.filter((p) => p.cmd.includes(`--user-data-dir=${profile}\0`)).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!ours.has(p.pid) && ours.has(p.ppid)) grew = ours.add(p.pid);
  }
  const out = { total: 0, largest: 0, byType: {}, anonByType: {} };
  for (const p of procs.filter((p) => ours.has(p.pid))) {
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(p.status)?.[1] ?? 0) * 1024;
    const type = /--type=([a-z-]+)/.exec(p.cmd)?.[1] ?? 'browser';
    out.total += kb('VmRSS');
    out.largest = Math.max(out.largest, kb('VmRSS'));
    out.byType[type] = (out.byType[type] ?? 0) + kb('VmRSS');
    out.anonByType[type] = (out.anonByType[type] ?? 0) + kb('RssAnon');
  }
  return out;
}
