// --backend cpu|webgpu, shared by every command that runs a model: the flag, else
// MEDNER_BACKEND, else the CPU (chooseBackendName in src/backend/registry.ts, the one rule).

import type { Backend } from '../backend/backend.js';
import { useBackend } from '../backend/registry.js';

export function selectBackend(flag: string | undefined): Promise<Backend> {
  return useBackend(flag, '--backend');
}
