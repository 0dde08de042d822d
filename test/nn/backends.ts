// The backends every layer test runs on. Adding WebGPU is one line here once
// src/backend/webgpu exports an initialised backend.

import { cpuBackend, type Backend } from '../../src/index.js';

export const backends: [string, Backend][] = [['cpu', cpuBackend]];
