// A progress line on stderr for terminals: fraction done, count, rate and
// ETA, redrawn in place a few times a second and erased at the end.

export interface ProgressState {
  /** 0..1 */
  fraction: number;
  count: number;
  unit: string;
}

const WIDTH = 24;

export class Progress {
  private readonly label: string;
  private timer: NodeJS.Timeout | null = null;
  private readonly started = performance.now();

  constructor(label: string) {
    this.label = label;
  }

  start(read: () => ProgressState): void {
    this.timer = setInterval(() => this.draw(read()), 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    process.stderr.write('\r\u001b[K');
  }

  private draw(state: ProgressState): void {
    const seconds = (performance.now() - this.started) / 1000;
    const fraction = Math.min(1, Math.max(0, state.fraction));
    const filled = Math.round(fraction * WIDTH);
    const rate = seconds > 0 ? state.count / seconds : 0;
    const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : Number.NaN;
    const bar = '#'.repeat(filled) + '.'.repeat(WIDTH - filled);
    process.stderr.write(`\r\u001b[K${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${state.count.toLocaleString('en-US')} ${state.unit} ${Math.round(rate).toLocaleString('en-US')}/s ETA ${formatSeconds(eta)}`);
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
