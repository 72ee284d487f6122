// Reads the export worker's memory over the Chrome DevTools Protocol while a job runs: V8 heap
// used/reserved and ArrayBuffer backing stores (Uint8Arrays, wasm memory), which is what the page
// itself holds, unlike process RSS that also counts Chromium's caches and allocator slack.
// Used by bench-1m.mjs and the flat-memory test.

/**
 * Attaches to every dedicated worker the page starts and samples `Runtime.getHeapUsage` every
 * `everyMs`; `stop()` returns the peaks. Playwright gives no CDP session for a worker, so this
 * goes through the page's session in non-flat mode (Target.sendMessageToTarget).
 */
export async function watchWorkerHeap(context, page, { everyMs = 50 } = {}) {
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
  const peak = { used: 0, total: 0, backing: 0, sum: 0, samples: 0 };
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    for (const sid of workers) {
      const r = (await ask(sid, 'Runtime.getHeapUsage')).result;
      if (!r) continue;
      peak.samples++;
      peak.used = Math.max(peak.used, r.usedSize);
      peak.total = Math.max(peak.total, r.totalSize);
      peak.backing = Math.max(peak.backing, r.backingStorageSize ?? 0);
      peak.sum = Math.max(peak.sum, r.totalSize + (r.backingStorageSize ?? 0));
    }
    busy = false;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      cdp.detach().catch(() => {});
      return { ...peak };
    },
  };
}
