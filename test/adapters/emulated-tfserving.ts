// An emulated TF Serving the way an operator runs the real one under a supervisor: a
// --batching_parameters_file it reads at startup, a restart command that restarts it (on the same
// port, with the file's settings), and an orchestrator scale command. Both commands are small
// `node -e` scripts that call a control endpoint in this process, which stands in for systemd and
// kubectl: /restart stops the emulator and starts it again from the file; /scale sets a model's
// batch threads (its replicas). Every command run is recorded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBatchingParameters } from '../../adapters/tfserving/config-files.js';
import type { ModelProfile } from '../../src/core/model/types.js';
import { startTfServingEmulator } from '../../src/emulator/tfserving/index.js';
import type { TfServingEmulator } from '../../src/emulator/tfserving/index.js';

export interface SupervisedTfServing {
  readonly url: string;
  readonly batchingFile: string;
  /** argv of the restart command (no placeholders). */
  readonly restartCommand: readonly string[];
  /** argv template of the scale command ({model}, {replicas}). */
  readonly scaleCommand: readonly string[];
  /** The emulator running now (a new one after each restart). */
  current(): TfServingEmulator;
  /** Commands run so far, as the control endpoint saw them: "restart", "scale m 2". */
  readonly commands: readonly string[];
  stop(): Promise<void>;
}

/** Calls the control URL given as the first argument; exits 0 on a 2xx answer, 1 otherwise. */
const CALL = "fetch(process.argv[1],{method:'POST'}).then(r=>r.text().then(t=>{process.stderr.write(t);process.exit(r.ok?0:1)}),e=>{console.error(e.message);process.exit(1)})";

export async function startSupervisedTfServing(profiles: readonly ModelProfile[], batching: { maxBatchSize: number; batchTimeoutMicros: number }): Promise<SupervisedTfServing> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-tfs-'));
  const batchingFile = join(dir, 'batching.pbtxt');
  writeFileSync(batchingFile, [
    '# written by the contract test',
    `max_batch_size { value: ${batching.maxBatchSize} }`,
    `batch_timeout_micros { value: ${batching.batchTimeoutMicros} }`,
    'num_batch_threads { value: 1 }',
    '',
  ].join('\n'));
  const fromFile = async (port: number): Promise<TfServingEmulator> => {
    const p = readBatchingParameters(readFileSync(batchingFile, 'utf8'));
    return startTfServingEmulator({
      profiles, port, monitoring: true, enableBatching: true,
      ...(p.maxBatchSize !== undefined ? { maxBatchSize: p.maxBatchSize } : {}),
      batchTimeoutMs: (p.batchTimeoutMicros ?? 0) / 1000,
    });
  };
  let emulator: TfServingEmulator;
  try {
    emulator = await fromFile(0);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = emulator.port;
  const commands: string[] = [];

  const control = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const answer = (status: number, text: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(text);
    };
    void (async () => {
      if (url.pathname === '/restart') {
        commands.push('restart');
        await emulator.stop();
        emulator = await fromFile(port);
        return answer(200, 'restarted');
      }
      if (url.pathname === '/scale') {
        const model = url.searchParams.get('model') ?? '';
        const replicas = Number(url.searchParams.get('replicas'));
        commands.push(`scale ${model} ${replicas}`);
        const engine = emulator.engine(model);
        if (!engine || !Number.isSafeInteger(replicas) || replicas < 0) return answer(400, `cannot scale ${model} to ${replicas}`);
        await engine.setReplicas(replicas);
        return answer(200, `scaled ${model} to ${replicas}`);
      }
      return answer(404, 'unknown control path');
    })().catch((err: unknown) => answer(500, (err as Error).message));
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    batchingFile,
    restartCommand: [process.execPath, '-e', CALL, `${controlUrl}/restart`],
    scaleCommand: [process.execPath, '-e', CALL, `${controlUrl}/scale?model={model}&replicas={replicas}`],
    current: () => emulator,
    commands,
    stop: async () => {
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
