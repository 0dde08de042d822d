// Which backend new tensors are created on. The CPU backend is always there;
// the WebGPU backend registers itself once its device is initialised
// (src/backend/webgpu), and MEDNER_BACKEND=cpu|webgpu picks one explicitly.

import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/index.js';

export const cpuBackend = new CpuBackend();
let current: Backend = cpuBackend;

export function getBackend(): Backend {
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}
