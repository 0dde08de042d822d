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

let webgpuBackend: Promise<Backend> | null = null;

/**
 * Make `name` the backend new tensors are created on and return it. The
 * environment variable MEDNER_BACKEND=cpu|webgpu, when set, overrides `name`, so
 * a script can be moved to the GPU without editing it. The WebGPU backend is
 * created once (device and kernels) and shared afterwards.
 */
export async function useBackend(name: 'cpu' | 'webgpu' = 'cpu'): Promise<Backend> {
  const fromEnvironment = typeof process !== 'undefined' ? process.env.MEDNER_BACKEND : undefined;
  const chosen = fromEnvironment && fromEnvironment.length > 0 ? fromEnvironment : name;
  if (chosen !== 'cpu' && chosen !== 'webgpu') throw new Error(`useBackend: unknown backend '${chosen}' (MEDNER_BACKEND must be cpu or webgpu)`);
  if (chosen === 'cpu') {
    setBackend(cpuBackend);
    return cpuBackend;
  }
  webgpuBackend ??= import('./webgpu/index.js').then((m) => m.createWebGpuBackend());
  // A failed start-up is not cached: the next call tries again.
  const backend = await webgpuBackend.catch((error: unknown) => {
    webgpuBackend = null;
    throw error;
  });
  setBackend(backend);
  return backend;
}
