// Reads the export worker's memory over the Chrome DevTools Protocol while a job runs: V8 heap
// used/reserved and ArrayBuffer backing stores (Uint8Arrays; wasm memory is not among them),
// which is what the page's code holds, unlike process RSS that also counts Chromium's caches,
// allocator slack and the wasm heap. Used by bench-1m.mjs and the flat-memory test.

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
