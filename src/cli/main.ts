// The streamwatch command: finds the command module and runs it. Commands
// only parse arguments and wire parts together.
import { StreamwatchError, UsageError } from '../errors.ts';

type CommandModule = { run(argv: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  up: { summary: 'everything in one command: broker, replay, detectors, storage, dashboard', load: () => import('./commands/up.ts') },
  broker: { summary: 'run the embedded Kafka-compatible broker', load: () => import('./commands/broker.ts') },
  detect: { summary: 'streaming detectors: topics in, alerts and incidents out', load: () => import('./commands/detect.ts') },
  job: { summary: 'batch jobs: files in, files out (cpu-mem, net-disk, nginx, lb-summary)', load: () => import('./commands/job.ts') },
  generate: { summary: 'write deterministic sample datasets (metrics, nginx, lb)', load: () => import('./commands/generate.ts') },
  sink: { summary: 'store topics in PostgreSQL (embedded PGlite by default)', load: () => import('./commands/sink.ts') },
  search: { summary: 'search stored NGINX events (host, status, time, ip, text)', load: () => import('./commands/search.ts') },
  archive: { summary: 'archive detector outputs into time-partitioned CSV files', load: () => import('./commands/archive.ts') },
  dashboard: { summary: 'live dashboard, Prometheus /metrics and alert webhooks', load: () => import('./commands/dashboard.ts') },
  collect: { summary: "publish this machine's live metrics (/proc) to the metric topics", load: () => import('./commands/collect.ts') },
  produce: { summary: 'publish a metrics CSV or NGINX/LB logs to Kafka (paced, validated)', load: () => import('./commands/produce.ts') },
  simulate: { summary: 'a live simulated fleet and load balancer publishing to Kafka', load: () => import('./commands/simulate.ts') },
  consume: { summary: 'store topics as CSV files, exactly once across crashes', load: () => import('./commands/consume.ts') },
  lag: { summary: "a consumer group's committed offsets, log ends and lag", load: () => import('./commands/lag.ts') },
  tail: { summary: 'print the messages of a topic as JSON lines', load: () => import('./commands/tail.ts') },
  topics: { summary: 'list, create or describe topics', load: () => import('./commands/topics.ts') },
};

const usage = `usage: streamwatch <command> [options]

commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

'streamwatch <command> --help' describes a command.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write('streamwatch 0.1.0\n');
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}' (see streamwatch --help)`);
  return (await command.load()).run(rest);
}

// A reader that goes away (`| head`) ends any command quietly, as other CLI tools do; commands
// that write a stream of output (generate, tail, collect --print) listen themselves and stop cleanly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount('error') > 1) return;
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`streamwatch: cannot write to standard output: ${error.message} [SW_ERR_OUTPUT]\n`);
  process.exit(1);
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof StreamwatchError) {
    process.stderr.write(`streamwatch: ${error.message}${error.code === 'SW_ERR_USAGE' ? '' : ` [${error.code}]`}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  } else {
    process.stderr.write(`streamwatch: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
