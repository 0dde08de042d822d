// Finding a GPUDevice: the platform's default adapter first (Vulkan, Metal,
// D3D12 on a machine with a GPU), then Dawn's OpenGL ES backend in
// compatibility mode, which runs WGSL on Mesa llvmpipe on a machine without one
// (../shared/DESIGN.md, "Facts measured here"). In a browser: navigator.gpu.

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

const INSTALL_HINT =
  'on Debian/Ubuntu without a GPU: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri ' +
  '(medner sets EGL_PLATFORM=surfaceless itself); with a GPU: install its Vulkan driver';

/**
 * Dawn instances created here. They must outlive their devices: a GPU object that
 * the garbage collector finalises while its device still runs aborts the process
 * (std::system_error from Dawn's instance teardown), so they are kept for good.
 */
const dawnInstances: GPU[] = [];

const isNode = typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

/** Dawn's GL path needs a surfaceless EGL platform and a private runtime directory. */
async function prepareHeadlessEnvironment(): Promise<void> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  if (!process.env.XDG_RUNTIME_DIR) {
    const { mkdirSync, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(tmpdir(), `medner-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o700);
    process.env.XDG_RUNTIME_DIR = dir;
  }
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
  if (requiredLimits.maxStorageBuffersPerShaderStage! < storageBuffersNeeded) {
    throw new Error(`webgpu: the adapter allows ${limits.maxStorageBuffersPerShaderStage} storage buffers per stage; the kernels need ${storageBuffersNeeded}`);
  }
  return adapter.requestDevice({ requiredLimits });
}

/** The optional `webgpu` package (Dawn for Node); a CPU-only install (`--omit=optional`) lacks it. */
async function importDawn(): Promise<typeof import('webgpu')> {
  try {
    return await import('webgpu');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'webgpu'")) {
      throw new Error("webgpu: the optional package 'webgpu' (Dawn for Node) is not installed; install it with: npm install webgpu");
    }
    throw error;
  }
}

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const storageBuffersNeeded = options.storageBuffersNeeded ?? 11;
  const tried: string[] = [];

  if (!isNode) {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new Error('webgpu: navigator.gpu is missing; this browser has no WebGPU (try Chrome with --enable-unsafe-webgpu)');
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('webgpu: navigator.gpu.requestAdapter() returned no adapter');
    return { device: await requestDevice(adapter, storageBuffersNeeded), adapter: describe(adapter, 'browser') };
  }

  const dawn = await importDawn();
  // Dawn's node binding expects the WebGPU globals (GPUBufferUsage, ...) on globalThis.
  Object.assign(globalThis, dawn.globals);

  if (!options.forceOpenGles) {
    tried.push('default (Vulkan/Metal/D3D12)');
    const native = dawn.create([]);
    dawnInstances.push(native);
    const adapter = await native.requestAdapter();
    if (adapter) return { device: await requestDevice(adapter, storageBuffersNeeded), adapter: describe(adapter, 'default') };
  }

  tried.push('Dawn OpenGL ES (compatibility)');
  await prepareHeadlessEnvironment();
  const gl = dawn.create(['backend=opengles']);
  dawnInstances.push(gl);
  const adapter = await gl.requestAdapter({ featureLevel: 'compatibility' });
  if (adapter) return { device: await requestDevice(adapter, storageBuffersNeeded), adapter: describe(adapter, 'opengles') };

  throw new Error(`webgpu: no adapter found (tried ${tried.join(', ')}); ${INSTALL_HINT}`);
}
