// Both cores for big matmuls: a worker thread and the main thread share out
// A's row panels. Operands are packed straight into shared memory (packing is
// needed anyway), so nothing is copied to the worker: SharedArrayBuffers for
// the JS kernel, the shared WebAssembly.Memory of wasm/gemm.ts for the wasm
// kernel (the worker instantiates the same compiled module over it). The main
// thread blocks on Atomics.wait, so matmul stays synchronous.
// The panels are claimed in chunks from an atomic counter, not split in
// halves: on a 2-core machine the other core is often busy (tests, a training
// run, the OS), and a fixed half left to a descheduled worker made "2 cores"
// slower than one. If the worker has not even woken by the time the main
// thread has claimed every chunk, the main thread withdraws the job and does
// not wait. bench/matmul.bench.ts measures whether it pays.
// The thread comes from the platform (src/platform): a worker_threads Worker in
// Node, a Web Worker in a cross-origin isolated page.

import { platform, type HelperThread } from '../../platform/index.js';
import { microKernels } from './micro-kernel.js';
import { gemmBlocked, type GemmOperands, type WasmGemm } from './wasm/gemm.js';

// Control words shared with the worker.
const GENERATION = 0; // bumped by the main thread to post a job; -1 ends the worker
const DONE = 1; // the last generation the worker has finished with
const TAKEN = 2; // 0 = posted, 1 = taken by the worker, 2 = withdrawn by the main thread
const NEXT = 3; // the next row panel to claim
const TOTAL = 4; // row panels in this job
const CHUNK = 5; // row panels per claim
const KERNEL = 6;
const FAILED = 7; // set by the worker when its part threw: the main thread must not return a half-written C
const ARGS = 8; // the kernel's arguments from here on
// JS job arguments.
const M = ARGS, K = ARGS + 1, N = ARGS + 2, BATCH_OFFSET = ARGS + 3;
// Wasm job arguments: the operands' fields in this order, then the cache blocking.
const WASM_FIELDS = ['aBase', 'aPanelStride', 'aStep', 'bBase', 'bPanelStride', 'bStep', 'cBase', 'ldc', 'k', 'colPanels'] as const;
const K_SLICE = ARGS + WASM_FIELDS.length, COL_GROUP = K_SLICE + 1;
const CONTROL_WORDS = 32;
const KERNEL_JS = 0, KERNEL_WASM = 1;
const POSTED = 0, TAKEN_BY_WORKER = 1, WITHDRAWN = 2;
/** Claims per thread, about: enough to even out a slow thread, few enough that each claim keeps B's slice hot. */
const CHUNKS_PER_THREAD = 4;

export class MatmulPool {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly worker: HelperThread;
  private capacity = { a: 0, b: 0, c: 0 };
  ap: Float32Array<ArrayBufferLike> = new Float32Array(0);
  bp: Float32Array<ArrayBufferLike> = new Float32Array(0);
  c: Float32Array<ArrayBufferLike> = new Float32Array(0);

  /** A pool with its helper thread, or null where the platform has none to give (see Platform.startThread). */
  static start(wasm: WasmGemm | null): MatmulPool | null {
    const pool = new MatmulPool(wasm);
    return pool.started ? pool : null;
  }

  private readonly started: boolean;

  private constructor(private readonly wasm: WasmGemm | null) {
    // The worker's code is this module's own kernels, serialised, so it runs the
    // same under tsx, vitest, compiled JS or a bundle without a loader in the worker.
    // The platform supplies `workerData` and `receiveUpdate` (the next message, read synchronously).
    const body = `
      const microKernels = ${microKernels.toString()};
      const gemmBlocked = ${gemmBlocked.toString()};
      const control = new Int32Array(workerData.control);
      // The compiled module and the shared memory arrive in workerData; this instance writes the same C as the main thread's.
      const wasm = workerData.wasm && new WebAssembly.Instance(workerData.wasm.module, { env: { memory: workerData.wasm.memory } });
      let ap, bp, c, seen = 0;
      function claimChunks(runPanels) {
        const total = control[${TOTAL}], chunk = control[${CHUNK}];
        for (let start; (start = Atomics.add(control, ${NEXT}, chunk)) < total; ) runPanels(start, Math.min(total, start + chunk));
      }
      function runJob() {
        if (control[${KERNEL}] === ${KERNEL_WASM}) {
          const operands = {};
          ${JSON.stringify(WASM_FIELDS)}.forEach((field, i) => { operands[field] = control[${ARGS} + i]; });
          const kSlice = control[${K_SLICE}], colGroup = control[${COL_GROUP}];
          claimChunks((start, end) => gemmBlocked(wasm.exports.gemm, workerData.wasm.rows, workerData.wasm.cols, operands, start, end, kSlice, colGroup));
          return;
        }
        // New shared buffers arrive as messages, read synchronously: this loop never yields.
        for (let update; (update = receiveUpdate()); ) {
          ap = new Float32Array(update.a); bp = new Float32Array(update.b); c = new Float32Array(update.c);
        }
        const m = control[${M}], k = control[${K}], n = control[${N}], offset = control[${BATCH_OFFSET}];
        claimChunks((start, end) => microKernels(ap, bp, c, offset, m, n, k, start, end));
      }
      for (;;) {
        Atomics.wait(control, ${GENERATION}, seen);
        seen = Atomics.load(control, ${GENERATION});
        if (seen < 0) break;
        // A job the main thread has withdrawn (it finished alone) is left alone.
        if (Atomics.compareExchange(control, ${TAKEN}, ${POSTED}, ${TAKEN_BY_WORKER}) === ${POSTED}) {
          try {
            runJob();
          } catch (error) {
            control[${FAILED}] = 1;
            console.error('medner matmul worker:', error);
          }
        }
        Atomics.store(control, ${DONE}, seen);
        Atomics.notify(control, ${DONE});
      }`;
    const wasmData = wasm && { module: wasm.module, memory: wasm.memory, rows: wasm.shape.rows, cols: wasm.shape.cols };
    const worker = platform.startThread({ body, data: { control: this.control.buffer, wasm: wasmData } });
    this.started = worker !== null;
    this.worker = worker ?? { postMessage: () => undefined, terminate: () => undefined };
  }

  /** Whether the JS kernel's buffers reach the busy worker (they travel as messages). */
  get sharesJsBuffers(): boolean {
    return platform.threadsReceiveWhileBusy;
  }

  /** Grow the shared buffers of the JS kernel (and tell the worker) so they hold the packed operands and the output. */
  reserve(aSize: number, bSize: number, cSize: number): void {
    if (aSize <= this.capacity.a && bSize <= this.capacity.b && cSize <= this.capacity.c) return;
    this.capacity = { a: Math.max(aSize, this.capacity.a), b: Math.max(bSize, this.capacity.b), c: Math.max(cSize, this.capacity.c) };
    const a = new SharedArrayBuffer(this.capacity.a * 4), b = new SharedArrayBuffer(this.capacity.b * 4), c = new SharedArrayBuffer(this.capacity.c * 4);
    [this.ap, this.bp, this.c] = [new Float32Array(a), new Float32Array(b), new Float32Array(c)];
    this.worker.postMessage({ a, b, c });
  }

  /**
   * Post the job whose arguments are already in the control words, claim
   * chunks of its `panels` row panels on this thread too, then wait for the
   * worker unless it never took the job.
   */
  private share(kernel: number, panels: number, runPanels: (start: number, end: number) => void): void {
    const ctl = this.control;
    const chunk = Math.max(1, Math.ceil(panels / (2 * CHUNKS_PER_THREAD)));
    ctl[KERNEL] = kernel;
    ctl[TOTAL] = panels;
    ctl[CHUNK] = chunk;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, TAKEN, POSTED); // after every argument: the worker reads them once it has taken the job
    const generation = Atomics.add(ctl, GENERATION, 1) + 1;
    Atomics.notify(ctl, GENERATION);
    for (let start; (start = Atomics.add(ctl, NEXT, chunk)) < panels; ) runPanels(start, Math.min(panels, start + chunk));
    if (Atomics.compareExchange(ctl, TAKEN, POSTED, WITHDRAWN) === POSTED) return; // the worker never started: nothing of C is its
    // Wait on the very value just compared: reloading it for wait() could read `generation` and sleep forever.
    for (let done; (done = Atomics.load(ctl, DONE)) !== generation; ) Atomics.wait(ctl, DONE, done);
    if (ctl[FAILED]) {
      ctl[FAILED] = 0;
      throw new Error('matmul: the worker thread failed on its row panels (its error is on stderr); MEDNER_THREADS=1 avoids it');
    }
  }

  /** JS kernel: C (at cOffset) from the packed panels in ap/bp. */
  run(cOffset: number, m: number, k: number, n: number): void {
    const ctl = this.control;
    ctl[M] = m; ctl[K] = k; ctl[N] = n; ctl[BATCH_OFFSET] = cOffset;
    this.share(KERNEL_JS, Math.ceil(m / 4), (start, end) => microKernels(this.ap, this.bp, this.c, cOffset, m, n, k, start, end));
  }

  /** Wasm kernel: C from the operands in the kernel's memory, `rowPanels` A panels shared out. */
  runWasm(operands: GemmOperands, rowPanels: number, kSlice: number, colGroup: number): void {
    const wasm = this.wasm;
    if (!wasm) throw new Error('MatmulPool.runWasm: the pool was made without the wasm kernel');
    const ctl = this.control;
    WASM_FIELDS.forEach((field, i) => (ctl[ARGS + i] = operands[field]));
    ctl[K_SLICE] = kSlice; ctl[COL_GROUP] = colGroup;
    this.share(KERNEL_WASM, rowPanels, (start, end) => gemmBlocked(wasm.gemm, wasm.shape.rows, wasm.shape.cols, operands, start, end, kSlice, colGroup));
  }

  terminate(): void {
    Atomics.store(this.control, GENERATION, -1);
    Atomics.notify(this.control, GENERATION);
    void this.worker.terminate();
  }
}
