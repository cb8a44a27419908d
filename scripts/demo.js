// `npm run demo`: the main job on the embedded defaults until `streamwatch up`
// wires everything: generate the default dataset (20 servers, 2 h, 28,800
// rows) and run the two batch jobs of the assignment on it, into out/.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const cli = (...args) => {
  const result = spawnSync(process.execPath, ['bin/streamwatch.js', ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

mkdirSync('out', { recursive: true });
cli('generate', 'metrics', '--out', 'out/metrics.csv');
cli('job', 'cpu-mem', '--input', 'out/metrics.csv', '--out', 'out/CPU_MEM.csv', '--trim-leading', '--incidents', 'out/incidents-cpu-mem.csv', '--rejects', 'out/rejects-cpu-mem.csv');
cli('job', 'net-disk', '--input', 'out/metrics.csv', '--out', 'out/NET_DISK.csv', '--trim-leading', '--incidents', 'out/incidents-net-disk.csv', '--rejects', 'out/rejects-net-disk.csv');
process.stderr.write('outputs: out/CPU_MEM.csv out/NET_DISK.csv out/incidents-*.csv\n');
