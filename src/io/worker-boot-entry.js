// The first module of a worker started by worker-boot.ts: turns Node's
// compile cache on (see bin/streamwatch.js), then loads the worker's module,
// whose URL is the last command-line argument.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import(process.argv[process.argv.length - 1]);
