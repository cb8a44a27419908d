// Starts a worker thread on a module of this project with Node's compile
// cache on: a worker is a Node instance of its own, and without the cache it
// compiles (and strips the types of) every module it loads again, which took
// ~110 ms of the ~150 ms a batch job's reading thread needed to start.
import { Worker } from 'node:worker_threads';

const BOOT = new URL('./worker-boot-entry.js', import.meta.url);

/** A Worker running `module` (a file URL); `workerData` is handed to it as usual. */
export function startWorker(module: URL, workerData: unknown): Worker {
  return new Worker(BOOT, { workerData, argv: [module.href] });
}
