// One broker per data directory: two processes appending to the same
// segments would interleave bytes and corrupt the logs. The lock is a file
// holding the owner's pid, created exclusively; a lock left by a process
// that no longer exists (kill -9, power loss) is taken over.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = '.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory's lock or throws naming the process that holds it. Returns the release function. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      const who = owner === process.pid ? 'this process (opened twice without close())' : `process ${owner}`;
      throw new Error(`data directory ${dataDir} is in use by ${who}; remove ${path} if that is wrong`);
    }
    await rm(path, { force: true }); // stale: its owner is gone
  }
  throw new Error(`cannot lock data directory ${dataDir}`);
}
