// The browser platform: navigator.gpu for WebGPU, Web Workers over
// SharedArrayBuffer for the CPU matmul's helper thread when the page is
// cross-origin isolated (COOP/COEP headers), no file system: models and corpora
// come in as bytes (fetch, a file input), see loadCheckpointFromFiles.

import type { FilePromises, FileSync, FoundAdapter, PathFunctions, Platform, ThreadOptions } from './types.js';

/** The kernels, inlined by the bundler (examples/web/build.ts); else fetched from kernels/ beside src/. */
declare const __MEDNER_KERNELS__: Record<string, string> | undefined;
const inlinedKernels: Record<string, string> | undefined = typeof __MEDNER_KERNELS__ === 'undefined' ? undefined : __MEDNER_KERNELS__;

interface BrowserGlobals {
  navigator?: { gpu?: GPU; hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
  document?: unknown;
  MEDNER_ENV?: Record<string, string>;
  Worker?: new (url: string) => { postMessage(message: unknown): void; terminate(): void };
}
const web = globalThis as unknown as BrowserGlobals;

async function requestAdapter(): Promise<FoundAdapter> {
  const gpu = web.navigator?.gpu;
  if (!gpu) throw new Error('webgpu: navigator.gpu is missing; this browser has no WebGPU (Chrome or Edge 113+, or start Chromium with --enable-unsafe-webgpu)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('webgpu: navigator.gpu.requestAdapter() returned no adapter (is WebGPU disabled, or the GPU blocklisted?)');
  return { adapter, backend: 'browser' };
}

/**
 * A Web Worker sharing memory with this thread. Only where memory can be shared
 * (cross-origin isolated) and this thread may block in Atomics.wait (a worker,
 * not a page's main thread); otherwise the matmul stays on one thread.
 */
function startThread({ body, data }: ThreadOptions) {
  if (!web.crossOriginIsolated || typeof SharedArrayBuffer !== 'function' || !web.Worker || web.document !== undefined) return null;
  // The first message carries workerData; the job loop then blocks in Atomics.wait and never returns to the event loop.
  const source = `self.onmessage = (event) => {
    self.onmessage = null;
    const workerData = event.data;
    const receiveUpdate = () => undefined;
    ${body}
  };`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new web.Worker(url);
  worker.postMessage(data);
  return worker;
}

async function loadKernel(file: string): Promise<string> {
  const inlined = inlinedKernels?.[file];
  if (inlined !== undefined) return inlined;
  const url = new URL(`../../kernels/${file}`, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`webgpu: cannot fetch kernel ${url} (HTTP ${response.status})`);
  return response.text();
}

/** Every file function: a clear error, since a page reads files only as bytes it was given. */
function noFileSystem<T extends object>(): T {
  return new Proxy({} as T, {
    get: (_, name) => (target: unknown) => {
      throw new Error(`medner in a browser has no file system (${String(name)}(${typeof target === 'string' ? JSON.stringify(target) : '...'})): pass bytes instead, e.g. loadCheckpointFromFiles, parseConll`);
    },
  });
}

/** POSIX-style paths, for names inside checkpoint file sets. */
function normalize(parts: string[], absolute: boolean): string {
  const out: string[] = [];
  for (const part of parts.join('/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !absolute) out.push(part);
  }
  return (absolute ? '/' : '') + out.join('/') || (absolute ? '/' : '.');
}
const path = {
  join: (...parts: string[]) => normalize(parts, parts[0]?.startsWith('/') ?? false),
  resolve: (...parts: string[]) => {
    const from = parts.map((p, i) => (p.startsWith('/') ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    return normalize(from < 0 ? ['/', ...parts] : parts.slice(from), true);
  },
  basename: (p: string, suffix?: string) => {
    const base = p.replace(/\/+$/, '').split('/').pop() ?? '';
    return suffix && base.endsWith(suffix) && base !== suffix ? base.slice(0, -suffix.length) : base;
  },
  dirname: (p: string) => {
    const trimmed = p.replace(/\/+$/, '');
    const at = trimmed.lastIndexOf('/');
    return at < 0 ? '.' : at === 0 ? '/' : trimmed.slice(0, at);
  },
} as unknown as PathFunctions;

export const platform: Platform = {
  name: 'browser',
  env: (name) => web.MEDNER_ENV?.[name],
  cores: () => web.navigator?.hardwareConcurrency ?? 1,
  startThread,
  threadsReceiveWhileBusy: false,
  requestAdapter,
  filePathOf: (url) => url.href,
  loadKernel,
  fs: noFileSystem<FilePromises>(),
  fsSync: noFileSystem<FileSync>(),
  path,
};
