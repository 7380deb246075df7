// The loop of the in-process measurements (dispatch floor, breakdown).

/**
 * Calls `once(done)` with `inFlight` calls outstanding for `seconds`, each completion starting
 * the next on a fresh turn of the event loop, as the batch executor does. Returns how many calls
 * completed, the wall time and the process's CPU time (user + system, all threads: GC included).
 */
export async function runFor(seconds, once, inFlight) {
  const deadline = Date.now() + seconds * 1000;
  let calls = 0;
  const worker = () =>
    new Promise((resolve) => {
      const next = () => {
        if (Date.now() >= deadline) return resolve();
        once(() => {
          calls++;
          setImmediate(next);
        });
      };
      next();
    });
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { calls, wallMs: Date.now() - started, cpuMicros: cpu.user + cpu.system };
}
