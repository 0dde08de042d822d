// Finding a GPUDevice: the platform's default adapter first (Vulkan, Metal,
// D3D12 on a machine with a GPU), then Dawn's OpenGL ES backend in
// compatibility mode, which runs WGSL on Mesa llvmpipe on a machine without one
// (../shared/DESIGN.md, "Facts measured here"). In a browser: navigator.gpu.
// Where the adapter comes from is the platform's business (src/platform).

import { platform } from '../../platform/index.js';

/** What the chosen adapter says about itself; printed by the CLI and recorded by benchmarks. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  /** 'default' (the platform's native API), 'opengles' (Dawn's GL backend) or 'browser'. */
  backend: 'default' | 'opengles' | 'browser';
  /** A software or otherwise reduced adapter: Dawn's fallback flag, or the GL-on-llvmpipe path. */
  fallback: boolean;
}

export interface DeviceOptions {
  /** Skip the default adapter and go straight to Dawn's OpenGL ES backend (tests, reproducible CI figures). */
  forceOpenGles?: boolean;
  /** Storage buffers one kernel binds at most (crf_backward binds 11). */
  storageBuffersNeeded?: number;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: AdapterReport;
}

function describe(adapter: GPUAdapter, backend: AdapterReport['backend']): AdapterReport {
  const info = adapter.info;
  // Dawn's GL backend reports the renderer in `device` and the GL version in `description`.
  const description = [info.device, info.description].filter((s) => s && s.length > 0).join(' / ');
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description,
    backend,
    fallback: info.isFallbackAdapter || backend === 'opengles',
  };
}

async function requestDevice(adapter: GPUAdapter, storageBuffersNeeded: number): Promise<GPUDevice> {
  const limits = adapter.limits;
  // Defaults in compatibility mode are small (128 invocations, 4 storage buffers); ask for what the kernels use.
  const requiredLimits: Record<string, number> = {
    maxComputeInvocationsPerWorkgroup: Math.min(256, limits.maxComputeInvocationsPerWorkgroup),
    maxComputeWorkgroupSizeX: Math.min(256, limits.maxComputeWorkgroupSizeX),
    maxStorageBuffersPerShaderStage: Math.min(Math.max(storageBuffersNeeded, 8), limits.maxStorageBuffersPerShaderStage),
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
  };
  // An adapter that allows fewer than the widest kernel binds (Chrome offers 10 per stage) still runs every
  // other kernel: Runtime.pipeline refuses, by name, only a kernel that binds more than the device allows.
  return adapter.requestDevice({ requiredLimits });
}

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const storageBuffersNeeded = options.storageBuffersNeeded ?? 11;
  const { adapter, backend } = await platform.requestAdapter({ forceOpenGles: options.forceOpenGles });
  return { device: await requestDevice(adapter, storageBuffersNeeded), adapter: describe(adapter, backend) };
}
