// The config loader: file + environment → one schema → cross-checks → a frozen InferlineConfig, or
// one ConfigError listing every problem. parseConfig is the whole pipeline minus reading the main
// file, so tests drive it with a string and an in-memory file system.
import { readTextFile, readTextFileSync } from './read-text.js';
import type { Problem } from '../core/model/errors.js';
import { ConfigError } from './errors.js';
import { applyEnvOverrides, type EnvOverride } from './env.js';
import { problemsFromIssues } from './issues.js';
import { parseText } from './parse-text.js';
import { gatherProfiles, describeReadError, type ReadFile } from './profile-sources.js';
import { checkProfiles, crossCheck } from './cross-checks.js';
import { configSchema } from './schema.js';
import { deepFreeze } from './freeze.js';
import { resolveTelemetry } from './telemetry.js';
import { resolveCoordination } from './coordination.js';
import { placementProblems, resolveAgent, resolvePlacement, scheduleProblems } from './agent.js';
import type { InferlineConfig } from './types.js';

const readUtf8: ReadFile = (file) => readTextFileSync(file);

/**
 * Validates the text of a config file. `source` names the file (messages start with it; profile
 * file paths are relative to it); `env` is searched for INFERLINE_* overrides (none by default, so
 * a test is not affected by the shell it runs in); `readFile` reads profile files.
 * @throws ConfigError listing every problem found.
 */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}, readFile: ReadFile = readUtf8): InferlineConfig {
  const parsed = parseText(text, source);
  if (!parsed.ok) throw new ConfigError(source, [{ path: '', message: parsed.message }]);
  if (parsed.value === undefined || parsed.value === null) {
    throw new ConfigError(source, [{ path: '', message: 'the file is empty — must be an object with hardware, profiles and pipelines' }]);
  }
  const overridden = applyEnvOverrides(parsed.value, env, configSchema);
  const result = configSchema.safeParse(overridden.raw, { reportInput: true });
  if (!result.success) {
    const schemaProblems = blameOverrides(problemsFromIssues(result.error.issues), overridden.applied);
    throw new ConfigError(source, [...schemaProblems, ...overridden.problems]);
  }
  const file = result.data;
  const gathered = gatherProfiles(file.profiles, source, readFile);
  const checked = checkProfiles(gathered.profiles, gathered.labels);
  const profileProblems = [...gathered.problems, ...checked.problems];
  const telemetry = resolveTelemetry(file.telemetry, env);
  const coordination = resolveCoordination(file.coordination, source);
  const agent = resolveAgent(file, source, readFile);
  const problems = [
    ...overridden.problems,
    ...profileProblems,
    ...crossCheck(file, checked.profiles, profileProblems.length === 0),
    ...telemetry.problems,
    ...coordination.problems,
    ...agent.problems,
    ...scheduleProblems(file.planner.schedule),
    ...placementProblems(file),
  ];
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze({
    hardware: file.hardware,
    profiles: checked.profiles,
    pipelines: file.pipelines,
    planner: {
      arrival: file.planner.arrival,
      seed: file.planner.seed,
      maxReplicasPerStage: file.planner.maxReplicasPerStage,
      exactMaxEvaluations: file.planner.exactMaxEvaluations,
      samples: file.planner.samples,
      sampleQuantile: file.planner.sampleQuantile,
      schedule: file.planner.schedule,
      traceWindowMs: file.planner.traceWindow,
      minTraceMs: file.planner.minTrace,
    },
    tuner: {
      tickMs: file.tuner.tick,
      headroom: file.tuner.headroom,
      maxStepUp: file.tuner.maxStepUp,
      maxStepDown: file.tuner.maxStepDown,
      scaleDownDelayMs: file.tuner.scaleDownDelay,
      scaleDownIntervalMs: file.tuner.scaleDownInterval,
      scaleDownWindowMs: file.tuner.scaleDownWindow,
      replanLow: file.tuner.replanBand[0],
      replanHigh: file.tuner.replanBand[1],
      replanAfterMs: file.tuner.replanAfter,
      tolerance: file.tuner.tolerance,
      drainTimeMs: file.tuner.drainTime,
      batchAware: { enabled: file.tuner.batchAware.enabled, intervalMs: file.tuner.batchAware.interval, windowMs: file.tuner.batchAware.window },
    },
    telemetry: telemetry.config,
    coordination: coordination.config,
    ...(agent.config === undefined ? {} : { agent: agent.config }),
    placement: resolvePlacement(file.placement, file.coordination.kubernetes.namespace),
    warnings: checked.warnings,
    source,
  });
}

/**
 * Reads and validates a config file (YAML or JSON).
 * @throws ConfigError listing every problem found, including a file that cannot be read.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<InferlineConfig> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the config file (${describeReadError(err)})` }], { cause: err });
  }
  return parseConfig(text, file, env, readUtf8);
}

/** Says which environment variable set a value the schema rejected: it is not in the file. */
function blameOverrides(problems: readonly Problem[], applied: readonly EnvOverride[]): Problem[] {
  return problems.map((p) => {
    const by = applied.find((o) => p.path === o.path || p.path.startsWith(`${o.path}.`) || p.path.startsWith(`${o.path}[`));
    return by === undefined ? p : { ...p, message: `${p.message} (set by ${by.variable})` };
  });
}
