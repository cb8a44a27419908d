// The shared body of the property tests: one CLI run per generated case.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertSameAsReference, runJob } from './harness.ts';
import { datasetCase } from './random-datasets.ts';
import { JOBS, runReferenceJob } from '../support/reference-metrics.ts';
import type { JobName, ReferenceSource } from '../support/reference-metrics.ts';
import type { DatasetCase } from './random-datasets.ts';

/**
 * Runs per property; each costs one spawn of the CLI (~0.3 s). For a deeper
 * search: SW_PROPERTY_RUNS=500 SW_PROPERTY_SECONDS=600 SW_PROPERTY_SHRINK=1.
 */
const RUNS = Number(process.env.SW_PROPERTY_RUNS ?? 8);
const SECONDS = Number(process.env.SW_PROPERTY_SECONDS ?? 60);

function referenceSource(job: JobName, c: DatasetCase): ReferenceSource {
  const file = (name: string): { source: string; text: string } => ({ source: name, text: c.files[name] as string });
  if (!c.perTopic) return { kind: 'combined', input: file('metrics.csv') };
  return job === 'cpu-mem'
    ? { kind: 'topics', first: file('cpu.csv'), second: file('mem.csv') }
    : { kind: 'topics', first: file('net.csv'), second: file('disk.csv') };
}

/** `threads`: 2 runs the job with its reading thread (--threads 2), which small inputs do not get by default. */
export async function checkJobAgainstReference(job: JobName, perTopic: boolean, threads: 1 | 2 = 1): Promise<void> {
  const [firstFlag, secondFlag] = job === 'cpu-mem' ? ['--cpu-threshold', '--mem-threshold'] : ['--net-threshold', '--disk-threshold'];
  await fc.assert(
    fc.asyncProperty(datasetCase(job, perTopic), async (c) => {
      const thresholds = c.thresholds ?? JOBS[job].defaultThresholds;
      const expected = runReferenceJob(job, referenceSource(job, c), { trimLeading: c.trimLeading, thresholds });
      const got = await runJob({
        job, files: c.files, inputArgs: c.inputArgs, trimLeading: c.trimLeading,
        extraArgs: [...(c.thresholds ? [firstFlag, c.thresholds[0], secondFlag, c.thresholds[1]] : []), ...(threads === 2 ? ['--threads', '2'] : [])],
      });
      assertSameAsReference(got, expected, `${job} ${c.mode}${c.trimLeading ? ' --trim-leading' : ''}${threads === 2 ? ' --threads 2' : ''}`);
      assert.equal(got.stats?.read, expected.read, `read count (non-blank data lines of all inputs) in: ${got.run.stderr}`);
      assert.equal(got.stats?.rejected, expected.rejects.length, `rejected count in: ${got.run.stderr}`);
      assert.equal(got.stats?.wrote, expected.rows.length, `written count in: ${got.run.stderr}`);
      assert.equal(got.stats?.late, 0, `late count in: ${got.run.stderr}`);
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: process.env.SW_PROPERTY_SHRINK !== '1' },
  );
}
