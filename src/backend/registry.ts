// Which backend new tensors are created on, and the one rule that chooses it
// (chooseBackendName: explicit choice > MEDNER_BACKEND > cpu). The CPU backend is
// always there; the WebGPU backend is created on first use.

import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/index.js';
import { platform } from '../platform/index.js';

export const cpuBackend = new CpuBackend();
let current: Backend = cpuBackend;

export function getBackend(): Backend {
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}

export type BackendName = 'cpu' | 'webgpu';

/**
 * The one rule for which backend runs, used by the CLI (--backend), the library API and the
 * benchmarks: an explicit choice (a flag, an option, an argument) wins, else the environment
 * variable MEDNER_BACKEND, else the CPU. `what` names the explicit choice in the error.
 */
export function chooseBackendName(explicit?: string | null, what = 'backend'): BackendName {
  const fromEnvironment = platform.env('MEDNER_BACKEND');
  const name = explicit || fromEnvironment || 'cpu';
  if (name === 'cpu' || name === 'webgpu') return name;
  throw new Error(explicit ? `${what} must be cpu or webgpu, got '${name}'` : `MEDNER_BACKEND must be cpu or webgpu, got '${name}'`);
}

let webgpuBackend: Promise<Backend> | null = null;

/**
 * Make the chosen backend (chooseBackendName: `name`, else MEDNER_BACKEND, else cpu) the one new
 * tensors are created on, and return it. The WebGPU backend is created once (device and
 * kernels) and shared afterwards; a failed start-up is not cached, so the next call tries again.
 */
export async function useBackend(name?: string | null, what?: string): Promise<Backend> {
  const chosen = chooseBackendName(name, what);
  if (chosen === 'cpu') {
    setBackend(cpuBackend);
    return cpuBackend;
  }
  webgpuBackend ??= import('./webgpu/index.js').then((m) => m.createWebGpuBackend());
  const backend = await webgpuBackend.catch((error: unknown) => {
    webgpuBackend = null;
    throw error;
  });
  setBackend(backend);
  return backend;
}
