export interface ProgressMeter {
  readonly kind: 'progress-meter';
  tick(records: number, bytes: number): void;
  done(): void;
}

interface TtyLike {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(s: string): boolean;
}

const noop: ProgressMeter = Object.freeze({
  kind: 'progress-meter' as const,
  tick: () => undefined,
  done: () => undefined,
});

/**
 * A one-line progress bar with records/s, redrawn at most 5 times a second. Only on a terminal:
 * when stderr is piped or redirected nothing is written, so logs stay clean.
 */
export function createProgressMeter(
  out: TtyLike,
  label: string,
  totalBytes: number | undefined,
  now: () => number = Date.now,
): ProgressMeter {
  if (out.isTTY !== true) return noop;
  const started = now();
  let last = 0;
  let shown = false;
  let records = 0;
  let bytes = 0;
  const draw = (): void => {
    const secs = Math.max((now() - started) / 1000, 0.001);
    const rate = Math.round(records / secs);
    const width = 24;
    const frac = totalBytes !== undefined && totalBytes > 0 ? Math.min(bytes / totalBytes, 1) : undefined;
    const bar =
      frac === undefined
        ? ''
        : `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}% `;
    out.write(
      `\r${label} ${bar}${records.toLocaleString('en-US')} records, ${rate.toLocaleString('en-US')} records/s, ${(bytes / 1e6).toFixed(1)} MB\x1b[K`,
    );
    shown = true;
  };
  return Object.freeze({
    kind: 'progress-meter' as const,
    tick(r: number, b: number): void {
      records = r;
      bytes = b;
      const t = now();
      if (t - last >= 200) {
        last = t;
        draw();
      }
    },
    done(): void {
      if (records > 0 || shown) {
        draw();
        out.write('\n');
      }
    },
  });
}
