// `inferline demo`: the embedded default that `npm start` runs.
//
// Today it is the offline part of the loop: it plans the reference pipelines shipped in
// config/examples on a bursty workload (a calm phase, a burst and a step) and compares InferLine's
// planner with the coarse-grained baseline. The live demo, with emulated servers, agents and the
// tuner, replaces it when those parts land (see the README's status section).
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { ProfileSet } from '../../core/profiles.js';
import { plan } from '../../core/planner/index.js';
import type { Plan } from '../../core/planner/index.js';
import { parseArrivalSpec, generateTrace } from '../../core/arrival.js';
import { parseDurationMs, DURATION_HINT } from '../../core/duration.js';
import { UsageError } from '../errors.js';
import { packageFile } from '../package-root.js';
import { fmtCost, fmtMs, fmtPct, printJson, table } from '../output.js';
import type { CliContext } from '../context.js';

export const DEMO_CONFIG = packageFile('config/examples/reference.yaml');

/** Calm (40 %), burst (20 %, 4× rate, CV 4), step (40 %, 2× rate) over `durationS`. */
export function demoWorkload(durationS: number, baseRate = 100): string {
  const seg = (f: number) => `${Math.max(0.001, Math.round(durationS * f * 1000) / 1000)}s`;
  return [
    `gamma:rate=${baseRate},cv=1,duration=${seg(0.4)}`,
    `gamma:rate=${baseRate * 4},cv=4,duration=${seg(0.2)}`,
    `gamma:rate=${baseRate * 2},cv=1,duration=${seg(0.4)}`,
  ].join(';');
}

export function registerDemo(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('demo')
    .description('the embedded default: plans the reference pipelines on a bursty workload and compares with the coarse-grained baseline')
    .option('--duration <d>', 'length of the workload, e.g. 60s', '60s')
    .option('--seed <n>', 'seed', '1')
    .option('--json', 'print the plans as JSON')
    .action(async (opts: { duration: string; seed: string; json?: boolean }) => {
      const ms = parseDurationMs(opts.duration);
      if (ms === undefined || ms <= 0) throw new UsageError(`--duration ${opts.duration}: must be ${DURATION_HINT}`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed ${opts.seed}: must be a non-negative integer`);
      const config = await loadConfig(DEMO_CONFIG);
      const profiles = new ProfileSet(config.profiles);
      const workload = demoWorkload(ms / 1000);
      const trace = generateTrace(parseArrivalSpec(workload), seed);
      if (!opts.json) output.out(`inferline demo — planning ${config.pipelines.length} reference pipelines on a bursty workload\n  ${workload}\n`);
      const results: { greedy: Plan; coarse: Plan }[] = [];
      for (const pipeline of config.pipelines) {
        const common = {
          pipeline, hardware: config.hardware, profiles, trace, workload,
          options: { seed, maxReplicasPerStage: config.planner.maxReplicasPerStage },
        };
        const greedy = plan({ ...common, planner: 'greedy' });
        const coarse = plan({ ...common, planner: 'coarse' });
        results.push({ greedy, coarse });
        if (!opts.json) {
          output.out(`${pipeline.name}  (SLO P${pipeline.slo.percentile} ≤ ${fmtMs(pipeline.slo.latencyMs)})\n`);
          output.out(table(['planner', 'cost', 'P99', 'SLO misses', 'stages (hardware/batch×replicas)'], [greedy, coarse].map((p) => [
            p.planner, fmtCost(p.costPerHour), fmtMs(p.estimatedP99Ms), fmtPct(p.estimate.sloMissRate),
            Object.entries(p.stages).map(([n, c]) => `${n}=${c.hardware}/${c.batchSize}×${c.replicas}`).join(' '),
          ])).replace(/^/gm, '  ') + '\n\n');
        }
      }
      if (opts.json) {
        printJson(output, results);
        return;
      }
      output.out('summary\n');
      output.out(table(['pipeline', 'inferline', 'coarse', 'saving'], results.map(({ greedy, coarse }) => [
        greedy.pipeline, fmtCost(greedy.costPerHour), fmtCost(coarse.costPerHour),
        `${((1 - greedy.costPerHour / coarse.costPerHour) * 100).toFixed(0)}%`,
      ])).replace(/^/gm, '  ') + '\n');
    });
}
