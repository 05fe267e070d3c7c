// Which models an emulated server hosts: every model of a profile file, each on one hardware type
// (the one asked for, or the model's first profile), with its latency curve.
import path from 'node:path';
import { gatherProfiles } from '../../config/profile-sources.js';
import { readTextFileSync } from '../../config/read-text.js';
import { InvalidInputError } from '../../core/model/errors.js';
import { LatencyCurve, normaliseProfiles } from '../../core/model/profiles.js';
import { checkProfileSense } from '../../core/model/profile-checks.js';
import type { ModelProfile } from '../../core/model/types.js';

/** One model as an emulator serves it. */
export interface EmulatedModel {
  readonly name: string;
  readonly hardware: string;
  readonly curve: LatencyCurve;
  /** Whether the hardware is a GPU (Triton: KIND_GPU instances and gpu_uuid labels). */
  readonly gpu: boolean;
}

export interface ModelSelection {
  readonly models: readonly EmulatedModel[];
  /** Models of the file with no profile on the hardware asked for (not served). */
  readonly skipped: readonly string[];
}

/** Reads and checks a profile file (`{profiles: [...]}`, YAML or JSON). */
export function readProfileFile(file: string): ModelProfile[] {
  const abs = path.resolve(file);
  const gathered = gatherProfiles(abs, abs, readTextFileSync);
  if (gathered.problems.length > 0) throw new InvalidInputError(`${file}: not a usable profile file`, gathered.problems);
  const pathOf = (i: number): string => gathered.labels[i] ?? `profiles[${i}]`;
  const { profiles, problems: shape } = normaliseProfiles(gathered.profiles, pathOf);
  const problems = [...shape, ...checkProfileSense(gathered.profiles, pathOf).errors];
  if (problems.length > 0) throw new InvalidInputError(`${file}: not a usable profile file`, problems);
  if (profiles.length === 0) throw new InvalidInputError(`${file}: not a usable profile file`, [{ path: 'profiles', message: 'no profiles — must list at least one' }]);
  return profiles;
}

/** A hardware name that reads as a GPU (gpu-t4, GPU-V100, a100-gpu, …). */
export function isGpuHardware(hardware: string): boolean {
  return /gpu/i.test(hardware);
}

/**
 * Picks one profile per model: on `hardware` when given (models without it are skipped; none at
 * all is an error), otherwise each model's first profile in file order.
 */
export function selectModels(profiles: readonly ModelProfile[], hardware?: string, gpu?: boolean): ModelSelection {
  const byModel = new Map<string, ModelProfile[]>();
  for (const p of profiles) byModel.set(p.model, [...(byModel.get(p.model) ?? []), p]);
  const models: EmulatedModel[] = [];
  const skipped: string[] = [];
  for (const [name, list] of byModel) {
    const chosen = hardware === undefined ? list[0] : list.find((p) => p.hardware === hardware);
    if (!chosen) {
      skipped.push(name);
      continue;
    }
    models.push({ name, hardware: chosen.hardware, curve: new LatencyCurve(chosen), gpu: gpu ?? isGpuHardware(chosen.hardware) });
  }
  if (models.length === 0) {
    const known = [...new Set(profiles.map((p) => p.hardware))];
    throw new InvalidInputError('nothing to emulate', [{
      path: 'hardware',
      message: hardware === undefined ? 'the profiles name no model' : `${hardware}: no model has a profile on it — must be one of: ${known.join(', ')}`,
    }]);
  }
  return { models, skipped };
}
