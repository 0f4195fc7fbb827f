// Download progress on stderr: one updating line on a TTY, periodic plain lines otherwise
// (CI logs, pipes), so a log never fills with carriage returns.

export interface ProgressEvent {
  /** `<role>/<id>/<file>` */
  file: string;
  url: string;
  /** Bytes of the file on disk so far (including a resumed partial download). */
  received: number;
  /** Expected total bytes, when the server or the manifest says. */
  total?: number;
  /** Bytes already on disk when this request started (0 = fresh download). */
  resumedFrom: number;
  phase: 'start' | 'data' | 'done';
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function bar(fraction: number, width: number): string {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export interface ReporterOptions {
  /** Minimum ms between redraws on a TTY. */
  ttyIntervalMs?: number;
  /** Non-TTY: print a line at least every this many ms ... */
  lineIntervalMs?: number;
  /** ... or whenever another this-many percent is done. */
  linePercentStep?: number;
  now?: () => number;
}

/** A ProgressListener that renders to `stream` (default process.stderr). */
export function createProgressReporter(stream: ProgressStream = process.stderr, opts: ReporterOptions = {}): ProgressListener {
  const tty = Boolean(stream.isTTY);
  const now = opts.now ?? Date.now;
  const ttyInterval = opts.ttyIntervalMs ?? 100;
  const lineInterval = opts.lineIntervalMs ?? 5000;
  const step = opts.linePercentStep ?? 10;
  let lastDraw = 0;
  let lastPct = -1;
  let startedAt = 0;
  let startBytes = 0;

  const describe = (e: ProgressEvent): string => {
    const secs = Math.max(0.001, (now() - startedAt) / 1000);
    const rate = formatBytes((e.received - startBytes) / secs);
    if (e.total && e.total > 0) {
      const f = e.received / e.total;
      return `${bar(f, 24)} ${(f * 100).toFixed(1).padStart(5)}% ${formatBytes(e.received)}/${formatBytes(e.total)} ${rate}/s`;
    }
    return `${formatBytes(e.received)} ${rate}/s`;
  };

  return (e) => {
    const t = now();
    if (e.phase === 'start') {
      startedAt = t;
      startBytes = e.resumedFrom;
      lastDraw = 0;
      lastPct = -1;
      const resumed = e.resumedFrom > 0 ? ` (resuming at ${formatBytes(e.resumedFrom)})` : '';
      stream.write(`Downloading ${e.file}${resumed}\n  from ${e.url}\n`);
      return;
    }
    if (e.phase === 'done') {
      const line = `  ${describe(e)} done`;
      stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
      return;
    }
    if (tty) {
      if (t - lastDraw < ttyInterval) return;
      lastDraw = t;
      let line = `  ${describe(e)}`;
      if (stream.columns && line.length > stream.columns - 1) line = line.slice(0, stream.columns - 1);
      stream.write(`\r${line}\x1b[K`);
      return;
    }
    const pct = e.total ? Math.floor((e.received / e.total) * 100) : -1;
    const stepReached = pct >= 0 && Math.floor(pct / step) > Math.floor(lastPct / step);
    if (stepReached || t - lastDraw >= lineInterval) {
      lastDraw = t;
      if (pct >= 0) lastPct = pct;
      stream.write(`  ${describe(e)}\n`);
    }
  };
}
