// --backend cpu|webgpu, shared by every command that runs a model: the flag, else
// MEDNER_BACKEND, else the CPU (chooseBackendName in src/backend/registry.ts, the one rule).
// The engine is imported here, when a command runs, so `medner --help` loads none of it.

import type { Backend } from '../backend/backend.js';

export async function selectBackend(flag: string | undefined): Promise<Backend> {
  const { useBackend } = await import('../backend/registry.js');
  return useBackend(flag, '--backend');
}
