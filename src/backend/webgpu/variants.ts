// Which kernel versions a device gets. Software adapters (Mesa llvmpipe, SwiftShader)
// pay dearly for barriers and workgroup memory, so they keep the kernels shaped for
// them: matmul_vec4 (a 4x4 block per invocation, no workgroup memory) and one
// invocation per row for softmax, layer_norm and cross_entropy. Real GPUs get
// matmul_tiled (workgroup tiles plus an 8x8 register block) and one workgroup per row.
// MEDNER_WEBGPU_KERNELS=software|gpu (or the backend option `kernels`) forces either
// set, so CI runs the GPU versions on llvmpipe and checks them against the CPU backend.

import type { AdapterReport } from './device.js';

export type KernelProfile = 'software' | 'gpu';

export interface KernelVariants {
  profile: KernelProfile;
  /** matmul_tiled.wgsl's overrides: WG_X x WG_Y invocations, 8 WG_Y x 8 WG_X outputs per workgroup. */
  matmulTiling: { WG_X: number; WG_Y: number; TILE_K: number };
  /** Lanes per row in the *_rows.wgsl kernels: a power of two. */
  rowLanes: number;
}

function parseProfile(value: string | undefined, where: string): KernelProfile | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'software' || value === 'gpu') return value;
  throw new Error(`${where}: unknown kernel set '${value}' (expected auto, software or gpu)`);
}

/** The requested set (option, else MEDNER_WEBGPU_KERNELS, else auto) resolved for this adapter and its limits. */
export function chooseKernelVariants(adapter: AdapterReport, limits: GPUSupportedLimits, requested?: string): KernelVariants {
  const fromOption = parseProfile(requested, 'webgpu kernels option');
  const env = typeof process !== 'undefined' ? process.env?.MEDNER_WEBGPU_KERNELS : undefined;
  const choice = fromOption !== 'auto' ? fromOption : parseProfile(env, 'MEDNER_WEBGPU_KERNELS');
  const profile: KernelProfile = choice !== 'auto' ? choice : adapter.fallback ? 'software' : 'gpu';
  const invocations = limits.maxComputeInvocationsPerWorkgroup;
  // 16 x 16 invocations (128 x 128 outputs per workgroup) where allowed, else 8 x 8; TILE_K 8
  // keeps the two staged tiles at 2 * 8 * 128 * 4 bytes = 8 KiB of the guaranteed 16 KiB.
  const side = invocations >= 256 && limits.maxComputeWorkgroupSizeX >= 16 && limits.maxComputeWorkgroupSizeY >= 16 ? 16 : 8;
  let rowLanes = 1;
  while (rowLanes * 2 <= Math.min(256, invocations, limits.maxComputeWorkgroupSizeX)) rowLanes *= 2;
  return { profile, matmulTiling: { WG_X: side, WG_Y: side, TILE_K: 8 }, rowLanes };
}
