// What the engine asks of the place it runs in, and nothing more: settings, a
// helper thread for the CPU matmul, a WebGPU adapter, the WGSL sources, files.
// Two implementations: ./node.ts (node:fs, node:worker_threads, Dawn) and
// ./browser.ts (navigator.gpu, Web Workers, fetch; no file system). The engine
// imports ./index.ts, which re-exports the Node one; the browser bundle swaps
// ./node.ts for ./browser.ts (examples/web/build.ts and package.json "browser").
// Type-only imports of Node's types below vanish from every bundle.

import type * as NodeFsPromises from 'node:fs/promises';
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';

/** A second thread that shares memory with this one (the CPU matmul's helper). */
export interface HelperThread {
  postMessage(message: unknown): void;
  terminate(): void;
}

export interface ThreadOptions {
  /**
   * The thread's code: a script body that finds `workerData` (the `data` below) and
   * `receiveUpdate()` (the next message, or undefined; read synchronously) in scope.
   */
  body: string;
  data: unknown;
}

export interface AdapterRequest {
  /** Node: skip the default adapter, straight to Dawn's OpenGL ES backend. */
  forceOpenGles?: boolean;
}

export interface FoundAdapter {
  adapter: GPUAdapter;
  /** 'default' (Dawn on the platform's API), 'opengles' (Dawn's GL backend) or 'browser' (navigator.gpu). */
  backend: 'default' | 'opengles' | 'browser';
}

/** The file functions the engine uses, with Node's signatures; a browser has none and says so when called. */
export type FilePromises = Pick<typeof NodeFsPromises, 'readFile' | 'writeFile' | 'rename' | 'mkdir' | 'rm' | 'stat' | 'readdir' | 'access' | 'open' | 'unlink'>;
export type FileSync = Pick<typeof NodeFs, 'readFileSync' | 'existsSync' | 'openSync' | 'readSync' | 'fstatSync' | 'statSync' | 'closeSync' | 'createReadStream'>;
export type PathFunctions = Pick<typeof NodePath, 'join' | 'resolve' | 'basename' | 'dirname'>;

export interface Platform {
  readonly name: 'node' | 'browser';
  /** A setting such as MEDNER_THREADS: the environment in Node; globalThis.MEDNER_ENV in a browser. */
  env(name: string): string | undefined;
  /** Cores the CPU matmul may use. */
  cores(): number;
  /**
   * Start a helper thread, or null where this one cannot share memory and block
   * (a page that is not cross-origin isolated, or a page's main thread).
   */
  startThread(options: ThreadOptions): HelperThread | null;
  /** Whether a helper thread sees messages while it is busy (Node's receiveMessageOnPort; Web Workers do not). */
  readonly threadsReceiveWhileBusy: boolean;
  /** A WebGPU adapter: navigator.gpu in a browser, Dawn (the `webgpu` package) in Node. */
  requestAdapter(request: AdapterRequest): Promise<FoundAdapter>;
  /** Where a module-relative URL (new URL('./x', import.meta.url)) is: a file path in Node, the URL itself in a browser. */
  filePathOf(url: URL): string;
  /** A WGSL source of kernels/ by file name. */
  loadKernel(file: string): Promise<string>;
  readonly fs: FilePromises;
  readonly fsSync: FileSync;
  readonly path: PathFunctions;
}
