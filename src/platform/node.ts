// The Node platform: node:fs, node:path, node:os, node:worker_threads, and Dawn
// (the `webgpu` package) for WebGPU, on the platform's GPU API or, on a machine
// without a GPU, on its OpenGL ES backend over Mesa llvmpipe (../shared/DESIGN.md).

import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FoundAdapter, Platform, ThreadOptions } from './types.js';

const INSTALL_HINT =
  'on Debian/Ubuntu without a GPU: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri ' +
  '(medner sets EGL_PLATFORM=surfaceless itself); with a GPU: install its Vulkan driver';

/**
 * Dawn instances created here. They must outlive their devices: a GPU object that
 * the garbage collector finalises while its device still runs aborts the process
 * (std::system_error from Dawn's instance teardown), so they are kept for good.
 */
const dawnInstances: GPU[] = [];

/** Dawn's GL path needs a surfaceless EGL platform and a private runtime directory. */
function prepareHeadlessEnvironment(): void {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = path.join(tmpdir(), `medner-xdg-${process.getuid?.() ?? 'user'}`);
    fsSync.mkdirSync(dir, { recursive: true });
    fsSync.chmodSync(dir, 0o700);
    process.env.XDG_RUNTIME_DIR = dir;
  }
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

async function requestAdapter(request: { forceOpenGles?: boolean }): Promise<FoundAdapter> {
  const dawn = await importDawn();
  // Dawn's node binding expects the WebGPU globals (GPUBufferUsage, ...) on globalThis.
  Object.assign(globalThis, dawn.globals);
  const tried: string[] = [];
  if (!request.forceOpenGles) {
    tried.push('default (Vulkan/Metal/D3D12)');
    const native = dawn.create([]);
    dawnInstances.push(native);
    const adapter = await native.requestAdapter();
    if (adapter) return { adapter, backend: 'default' };
  }
  tried.push('Dawn OpenGL ES (compatibility)');
  prepareHeadlessEnvironment();
  const gl = dawn.create(['backend=opengles']);
  dawnInstances.push(gl);
  const adapter = await gl.requestAdapter({ featureLevel: 'compatibility' });
  if (adapter) return { adapter, backend: 'opengles' };
  throw new Error(`webgpu: no adapter found (tried ${tried.join(', ')}); ${INSTALL_HINT}`);
}

function startThread({ body, data }: ThreadOptions): Worker {
  const source = `
    const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
    const receiveUpdate = () => receiveMessageOnPort(parentPort)?.message;
    ${body}`;
  const worker = new Worker(source, { eval: true, workerData: data });
  worker.unref(); // an idle helper never keeps the process alive
  return worker;
}

export const platform: Platform = {
  name: 'node',
  env: (name) => process.env[name],
  cores: availableParallelism,
  startThread,
  threadsReceiveWhileBusy: true,
  requestAdapter,
  filePathOf: fileURLToPath,
  // kernels/ sits beside src/ (and beside dist/ in the package): this file is src/platform/node.ts.
  // MEDNER_KERNELS_DIR: a bundled medner (bench/gpu/pack.sh) keeps the kernels beside the bundle.
  loadKernel: (file) => {
    const dir = process.env.MEDNER_KERNELS_DIR;
    return fs.readFile(dir ? path.join(dir, file) : new URL(`../../kernels/${file}`, import.meta.url), 'utf8');
  },
  fs,
  fsSync,
  path,
};
