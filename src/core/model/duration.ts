// Durations: strings like "250ms", "30s", "5m", "1h" (also "1.5s") exist only at the edge;
// inside, everything is milliseconds.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** The grammar of a duration; the config schema publishes it as a JSON Schema pattern. */
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/** Parses a duration string to milliseconds, or returns undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = UNIT_MS[m[2] as string] as number;
  const ms = value * unit;
  return Number.isFinite(ms) ? ms : undefined;
}

export const DURATION_HINT = 'a duration such as "250ms", "30s", "5m" or "1h"';

/** Formats milliseconds compactly: 250 → "250ms", 30000 → "30s", 300000 → "5m". */
export function formatDurationMs(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
