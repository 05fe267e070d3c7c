// `inferline profile`'s own flags (not the server's, see ../server-flags.ts): the hardware to
// record under, the batch sizes, durations and counts, and the concurrencies of the hop overhead.
import { DURATION_HINT, parseDurationMs } from '../../../core/model/duration.js';
import type { DeviceKind, ServerKind } from '../../../ports/server-adapter.js';
import type { HardwareTarget } from '../../../runtime/profiler/index.js';
import { UsageError } from '../../errors.js';

/** `cpu`, `gpu-t4`, or on Triton `cpu=cpu,gpu-t4=gpu` (switch the instance kind first). */
export function parseHardware(text: string, server: ServerKind, passive: boolean): HardwareTarget[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--hardware ${JSON.stringify(text)}: must name the hardware, e.g. --hardware gpu-t4`);
  const targets = items.map((item): HardwareTarget => {
    const [name = '', kind, extra] = item.split('=').map((s) => s.trim());
    if (name === '' || extra !== undefined) throw new UsageError(`--hardware ${item}: must be NAME or NAME=cpu|gpu`);
    if (kind === undefined) return { name };
    const device = kind.toLowerCase().replace(/^kind_/, '');
    if (device !== 'cpu' && device !== 'gpu') throw new UsageError(`--hardware ${item}: the instance kind must be cpu or gpu`);
    if (server !== 'triton') {
      throw new UsageError(`--hardware ${item}: only Triton can switch a model's device (its instance kind); on ${server} name the hardware it runs on, e.g. --hardware ${name}`);
    }
    if (passive) throw new UsageError(`--hardware ${item}: passive profiling changes nothing; name the hardware the model runs on, e.g. --hardware ${name}`);
    return { name, device };
  });
  const names = targets.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`--hardware: ${dup} is named twice`);
  if (passive && targets.length > 1) throw new UsageError('--hardware: passive profiling observes one hardware, the one the model runs on');
  if (targets.length > 1 && targets.some((t) => t.device === undefined)) {
    throw new UsageError('--hardware: with several hardware names, give each its instance kind (NAME=cpu|gpu)');
  }
  return targets;
}

export function parseBatchSizes(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const sizes = parts.map(Number);
  const bad = parts.filter((p, i) => !/^\d+$/.test(p) || !((sizes[i] as number) >= 1));
  if (parts.length === 0 || bad.length > 0) {
    throw new UsageError(`--batch-sizes ${text}: must be whole numbers ≥ 1 separated by commas, e.g. 1,2,4,8${bad.length > 0 ? ` (not: ${bad.join(', ')})` : ''}`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export function duration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDurationMs(text);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`${flag} ${text}: must be ${DURATION_HINT}, more than 0`);
  return ms;
}

export function count(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min) throw new UsageError(`${flag} ${text}: must be a whole number ≥ ${min}`);
  return n;
}

export function defaultHardwareName(device: DeviceKind, model: string): string {
  if (device === 'unknown') {
    throw new UsageError(`--hardware: the server does not say which device ${model} runs on; name the hardware, e.g. --hardware gpu-t4`);
  }
  return device;
}

/** Requests in flight per replica at which `inferline profile` measures the hop overhead again by default. */
export const HOP_IN_FLIGHT_DEFAULT = 4;

export function parseHopInFlight(text: string): number[] {
  if (text.trim() === 'none') return [];
  const parts = text.split(',').map((x) => x.trim());
  const values = parts.map(Number);
  if (parts.length === 0 || values.some((v) => !Number.isInteger(v) || v < 2 || v > 64) || new Set(values).size !== values.length) {
    throw new UsageError(`--hop-in-flight ${text}: must be distinct whole numbers from 2 to 64 separated by commas, e.g. 4 or 4,8 (or "none")`);
  }
  return values.sort((a, b) => a - b);
}
