// A small valid config to start each test case from, and helpers that collect the problems of a
// config without touching the disk: profile files live in an in-memory map.
import path from 'node:path';
import type { Problem } from '../../src/core/model/errors.js';
import { ConfigError, parseConfig, type ConfigFileOptions, type InferlineConfig } from '../../src/config/index.js';

export const SOURCE = '/configs/inferline.yaml';

/** Profile files by path as written in the config (resolved against SOURCE's folder). */
export type Files = Readonly<Record<string, string>>;

export function validConfig(): ConfigFileOptions {
  return {
    hardware: [
      { name: 'cpu', costPerHour: 0.17 },
      { name: 'gpu', costPerHour: 0.9, capacity: 2 },
    ],
    profiles: [
      { model: 'resize', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 12 }] },
      { model: 'classifier', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 60 }] },
      { model: 'classifier', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 8 }, { batchSize: 16, latencyMs: 40 }] },
    ],
    pipelines: [{
      name: 'images',
      slo: { latencyMs: 250 },
      stages: [
        { name: 'resize', model: 'resize', hardware: ['cpu'], next: [{ stage: 'classify', fraction: 1 }] },
        { name: 'classify', model: 'classifier', hardware: ['cpu', 'gpu'] },
      ],
    }],
  };
}

export function readFrom(files: Files): (file: string) => string {
  const byPath = new Map(Object.entries(files).map(([p, text]) => [path.resolve(path.dirname(SOURCE), p), text]));
  return (file) => {
    const text = byPath.get(file);
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
}

export function load(text: string, files: Files = {}, env: NodeJS.ProcessEnv = {}): InferlineConfig {
  return parseConfig(text, SOURCE, env, readFrom(files));
}

/** The ConfigError a config raises (fails the test when it loads). */
export function configError(text: string, files: Files = {}, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(text, files, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

export function problemsOf(text: string, files: Files = {}, env: NodeJS.ProcessEnv = {}): readonly Problem[] {
  return configError(text, files, env).problems;
}

// Test cases break configs in arbitrary ways, which no static type describes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

/** A valid config changed by `edit`, as JSON text (JSON is YAML, so the loader reads it). */
export function edited(edit: (c: Loose) => void): string {
  const c: Loose = structuredClone(validConfig());
  edit(c);
  return JSON.stringify(c, null, 2);
}
