// Public surface of the emulated Triton.
export { startTritonEmulator } from './emulator.js';
export type { TritonApiGroup, TritonEmulator, TritonEmulatorOptions, TritonModelControlMode, TritonRestriction } from './types.js';
