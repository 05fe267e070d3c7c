// `npm run bench`: figures for the README. Times are wall-clock on this machine and vary with
// load; the ratios compare results of the same run.
//   npm run bench                 every section
//   npm run bench -- simulator    one section (simulator | planner | quality | tuner | closed-loop | closed-loop-seeds | batch-aware | profiler | agent | emulator | overhead)
import { benchSimulator } from './simulator.js';
import { benchPlanner } from './planner.js';
import { benchQuality } from './quality.js';
import { benchBatchAware, benchClosedLoop, benchClosedLoopSeeds, benchTuner } from './closed-loop.js';
import { benchProfiler } from './profiler.js';
import { benchAgent } from './agent.js';
import { benchFidelity } from './fidelity.js';
import { benchEmulator } from './emulator.js';
import { benchOverhead } from './overhead.js';

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
};

// Section names; a flag's value (`--only NAME`, `--baseline REF`) is not one.
const VALUED_FLAGS = new Set(['--only', '--baseline']);
const wanted = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && !VALUED_FLAGS.has(all[i - 1] ?? ''));
for (const name of wanted.length > 0 ? wanted : Object.keys(sections)) {
  const run = sections[name];
  if (!run) {
    process.stderr.write(`unknown bench section "${name}" — must be one of: ${Object.keys(sections).join(', ')}\n`);
    process.exit(2);
  }
  await run();
}
