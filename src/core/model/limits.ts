// The bounds every input obeys, in one place, so that every command finishes on any input: a
// workload (trace file or arrival spec), a profile, a config document. Each is a guard against
// work or memory that grows without bound, set far above anything a real pipeline needs.
// docs/input-limits.md lists them with what is refused and what is warned about.

/**
 * Arrivals in one workload (a trace file or an arrival spec). The planner runs the estimator
 * tens of times over the whole workload: at this size a plan takes about a minute on one core.
 */
export const MAX_WORKLOAD_ARRIVALS = 2_000_000;

/** From the first arrival to the last: the closed loop (`simulate`) ticks through all of it. */
export const MAX_WORKLOAD_SPAN_MS = 24 * 3_600_000;

/** Between two consecutive arrivals of a trace: a longer silence is a hole in the recording. */
export const MAX_TRACE_GAP_MS = 3_600_000;

/** Bytes of a trace file read before parsing (about 20 bytes per arrival line). */
export const MAX_TRACE_BYTES = 64 * 1024 * 1024;

/** Points in one profile: one per measured batch size. */
export const MAX_PROFILE_POINTS = 1024;

/** The largest batch size a profile, a stage or a plan may name. */
export const MAX_BATCH_SIZE = 65_536;

/** Latency of one batch: above an hour it is a unit mistake, not a measurement. */
export const MAX_BATCH_LATENCY_MS = 3_600_000;

/** Characters of a config, profile or plan file (the reference config is 10 KB). */
export const MAX_DOCUMENT_CHARS = 16 * 1_048_576;

/** Values of an expanded YAML/JSON document (aliases count once per use). */
export const MAX_DOCUMENT_NODES = 1_000_000;

/** Replicas of one stage in a plan file. */
export const MAX_PLAN_REPLICAS = 10_000;
