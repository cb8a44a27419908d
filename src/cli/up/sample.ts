// The bundled sample dataset of `streamwatch up`: exactly what
// `streamwatch generate metrics` writes with its defaults (20 servers, 5 s
// cadence, 2 h from 20:53:00, every kind of anomaly), written once into the
// data dir instead of shipping 1.4 MB of CSV in the package. It is
// deterministic, so a restarted `up` replays the same rows.

import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultMetricsOptions } from '../../io/generators/metrics.ts';
import { writeMetricsCombined } from '../../io/generators/metrics-csv.ts';
import { fileSink } from '../../io/generators/sinks.ts';

export const SAMPLE_NAME = 'sample-metrics.csv';

/** The sample's path under `dataDir`, written there first if missing. */
export async function ensureSampleDataset(dataDir: string): Promise<string> {
  const path = join(dataDir, SAMPLE_NAME);
  try {
    await stat(path);
    return path;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Written aside and renamed: a crash never leaves a half sample that a restart would replay.
  const partial = `${path}.partial`;
  await writeMetricsCombined(defaultMetricsOptions, fileSink(partial));
  await rename(partial, path);
  return path;
}
