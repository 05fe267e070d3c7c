// Public surface of the emulated TorchServe.
export { startTorchServeEmulator } from './emulator.js';
export { parseArchiveName } from './wire.js';
export type { TorchServeEmulator, TorchServeEmulatorOptions } from './types.js';
export type { TorchServeKeys } from './auth.js';
export type { TorchServeMetricsMode } from './metrics.js';
