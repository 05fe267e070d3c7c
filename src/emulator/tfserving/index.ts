// Public surface of the emulated TF Serving.
export { startTfServingEmulator } from './emulator.js';
export { TF_PROMETHEUS_PATH } from './types.js';
export type { TfServingEmulator, TfServingEmulatorOptions } from './types.js';
