// A one-line progress bar with ETA, loss and tokens/s, redrawn in place on a TTY
// and printed every ~10% otherwise (CI logs stay short). Hand-written: a
// dependency for 40 lines of output formatting does not pay.

export class ProgressBar {
  private readonly started = performance.now();
  private lastPrinted = -1;

  constructor(private readonly label: string, private readonly total: number, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(done: number, fields: Record<string, string>): void {
    const fraction = this.total === 0 ? 1 : done / this.total;
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = fraction > 0 ? elapsed * (1 / fraction - 1) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ');
    const line = `${this.label} ${bar} ${done}/${this.total}  ${formatSeconds(elapsed)}<${formatSeconds(eta)}  ${extra}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.lastPrinted && (decile % 5 === 0 || done >= this.total)) {
        this.lastPrinted = decile;
        this.stream.write(line + '\n');
      }
    }
  }
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
