// The CLI run in this process, for bench/runtimes.mjs: `node cli-rss.mjs ARGS…` is `userexport ARGS…`,
// then the process's peak RSS and CPU time (worker threads included) on stderr:
// "maxRSS <KiB> cpu <seconds>".
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`maxRSS ${u.maxRSS} cpu ${(u.userCPUTime + u.systemCPUTime) / 1e6}\n`);
});
await import('../bin/userexport.mjs');
