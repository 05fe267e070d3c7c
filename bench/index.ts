// `npm run bench`: figures for the README. Times are wall-clock on this machine and vary with
// load; the ratios compare results of the same run.
//   npm run bench                 every section
//   npm run bench -- simulator    one section (simulator | planner | quality | tuner | closed-loop | closed-loop-seeds | batch-aware | profiler | agent | fidelity | emulator | overhead | fidelity-real | live | handover | triton-loads | triton-batcher)
// fidelity-real starts real Triton and TorchServe (installed by .ci/install-servers.sh) and runs for
// several minutes, so only naming it runs it; so does live (the demo's fleet live, over seeds 1–3:
// `npm run bench -- live [--duration 60s] [--seeds 1,2,3]`), and handover (etcd, three agents, the
// leader killed: `npm run bench -- handover [--rate 260] [--runs N]`, flags in bench/handover.ts),
// triton-loads (real Triton scaled under load, its loads over HTTP against gRPC), and triton-batcher
// (real Triton's batches read from its per-request trace).
import { benchSimulator } from './simulator.js';
import { benchPlanner } from './planner.js';
import { benchQuality } from './quality.js';
import { benchBatchAware, benchClosedLoop, benchClosedLoopSeeds, benchTuner } from './closed-loop.js';
import { benchProfiler } from './profiler.js';
import { benchAgent } from './agent.js';
import { benchFidelity } from './fidelity.js';
import { benchFidelityReal } from './fidelity-real.js';
import { benchEmulator } from './emulator.js';
import { benchOverhead } from './overhead.js';
import { benchLive } from './live.js';
import { benchHandover, HANDOVER_FLAGS } from './handover.js';
import { benchTritonLoads } from './triton-loads.js';
import { benchTritonBatcher } from './triton-batcher.js';

const sections: Record<string, () => Promise<void>> = {
  simulator: benchSimulator,
  planner: benchPlanner,
  quality: benchQuality,
  tuner: benchTuner,
  'closed-loop': benchClosedLoop,
  'closed-loop-seeds': benchClosedLoopSeeds,
  'batch-aware': benchBatchAware,
  profiler: benchProfiler,
  agent: benchAgent,
  fidelity: benchFidelity,
  emulator: benchEmulator,
  overhead: benchOverhead,
  'fidelity-real': benchFidelityReal,
  live: benchLive,
  handover: benchHandover,
  'triton-loads': benchTritonLoads,
  'triton-batcher': benchTritonBatcher,
};
/** Sections that run only when named. */
const OPT_IN = new Set(['fidelity-real', 'live', 'handover', 'triton-loads', 'triton-batcher']);

// Section names; a flag's value (`--only NAME`, `--baseline REF`) is not one.
const VALUED_FLAGS = new Set(['--only', '--baseline', '--duration', '--seeds', ...HANDOVER_FLAGS]);
const wanted = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && !VALUED_FLAGS.has(all[i - 1] ?? ''));
for (const name of wanted.length > 0 ? wanted : Object.keys(sections).filter((n) => !OPT_IN.has(n))) {
  const run = sections[name];
  if (!run) {
    process.stderr.write(`unknown bench section "${name}" — must be one of: ${Object.keys(sections).join(', ')}\n`);
    process.exit(2);
  }
  await run();
}
