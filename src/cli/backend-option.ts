// --backend cpu|webgpu, shared by every command that runs a model. The flag wins
// over MEDNER_BACKEND; without either, the CPU backend is used.

// The engine is imported here, when a command runs, so `medner --help` does not load it.

import type { Backend } from '../backend/backend.js';

export async function selectBackend(flag: string | undefined): Promise<Backend> {
  const name = flag ?? process.env.MEDNER_BACKEND ?? 'cpu';
  const { cpuBackend, setBackend } = await import('../backend/registry.js');
  if (name === 'cpu') {
    setBackend(cpuBackend);
    return cpuBackend;
  }
  if (name !== 'webgpu') throw new Error(`--backend must be cpu or webgpu, got '${name}'`);
  const { createWebGpuBackend } = await import('../backend/webgpu/index.js');
  const backend = await createWebGpuBackend();
  setBackend(backend);
  return backend;
}
