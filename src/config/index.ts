// Public surface of the config module: load a file into a validated, frozen config.
export { loadConfig, parseConfig } from './load.js';
export { ConfigError, formatProblems } from './errors.js';
export { configSchema, profileFileSchema } from './schema.js';
export type { ConfigFileOptions, ParsedConfigFile } from './schema.js';
export { configJsonSchemaText, CONFIG_JSON_SCHEMA_PATH } from './json-schema.js';
export { ENV_PREFIX } from './env.js';
export type { ReadFile } from './profile-sources.js';
export type { AgentConfig, CoordinationConfig, InferlineConfig, PlacementConfig, PlannerConfig, TelemetryConfig, WorkloadConfig } from './types.js';
