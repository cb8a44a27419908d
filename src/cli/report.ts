// Closing summaries of commands: one line on stderr, with the elapsed time
// and the peak memory, so people and benchmarks can read them.

export function elapsedSince(started: bigint): string {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return `${seconds.toFixed(2)} s, peak memory ${peakMb} MB`;
}

export function finishLine(text: string): void {
  process.stderr.write(`streamwatch ${text}\n`);
}
