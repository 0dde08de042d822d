// Both cores for big matmuls: one worker thread computes half of the 4-row
// panels while the main thread computes the other half. Operands are packed
// straight into SharedArrayBuffers (packing is needed anyway), so nothing is
// copied to the worker; the main thread blocks on Atomics.wait, so matmul stays
// synchronous. bench/matmul.bench.ts measures whether it pays.

import { Worker } from 'node:worker_threads';
import { microKernels } from './matmul.js';

// Control words shared with the worker.
const GENERATION = 0, DONE = 1, M = 2, K = 3, N = 4, PANEL_START = 5, PANEL_END = 6, BATCH_OFFSET = 7;

export class MatmulPool {
  private readonly control = new Int32Array(new SharedArrayBuffer(8 * 4));
  private readonly worker: Worker;
  private capacity = { a: 0, b: 0, c: 0 };
  ap: Float32Array<ArrayBufferLike> = new Float32Array(0);
  bp: Float32Array<ArrayBufferLike> = new Float32Array(0);
  c: Float32Array<ArrayBufferLike> = new Float32Array(0);

  constructor() {
    // The worker's code is this module's own kernel, serialised, so it runs the
    // same under tsx, vitest or compiled JS without a loader in the worker.
    const source = `
      const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
      const microKernels = ${microKernels.toString()};
      const control = new Int32Array(workerData.control);
      let ap, bp, c, seen = 0;
      for (;;) {
        Atomics.wait(control, ${GENERATION}, seen);
        seen = Atomics.load(control, ${GENERATION});
        if (seen < 0) break;
        // New shared buffers arrive as messages, read synchronously: this loop never yields.
        for (let update; (update = receiveMessageOnPort(parentPort)); ) {
          ap = new Float32Array(update.message.a); bp = new Float32Array(update.message.b); c = new Float32Array(update.message.c);
        }
        microKernels(ap, bp, c, control[${BATCH_OFFSET}], control[${M}], control[${N}], control[${K}], control[${PANEL_START}], control[${PANEL_END}]);
        Atomics.store(control, ${DONE}, seen);
        Atomics.notify(control, ${DONE});
      }`;
    this.worker = new Worker(source, { eval: true, workerData: { control: this.control.buffer } });
    this.worker.unref();
  }

  /** Grow the shared buffers (and tell the worker) so they hold the packed operands and the output. */
  reserve(aSize: number, bSize: number, cSize: number): void {
    if (aSize <= this.capacity.a && bSize <= this.capacity.b && cSize <= this.capacity.c) return;
    this.capacity = { a: Math.max(aSize, this.capacity.a), b: Math.max(bSize, this.capacity.b), c: Math.max(cSize, this.capacity.c) };
    const a = new SharedArrayBuffer(this.capacity.a * 4), b = new SharedArrayBuffer(this.capacity.b * 4), c = new SharedArrayBuffer(this.capacity.c * 4);
    [this.ap, this.bp, this.c] = [new Float32Array(a), new Float32Array(b), new Float32Array(c)];
    this.worker.postMessage({ a, b, c });
  }

  /** C (at cOffset) from the packed panels in ap/bp, row panels split between the worker and this thread. */
  run(cOffset: number, m: number, k: number, n: number): void {
    const panels = Math.ceil(m / 4);
    const half = Math.ceil(panels / 2);
    const ctl = this.control;
    ctl[M] = m; ctl[K] = k; ctl[N] = n; ctl[PANEL_START] = 0; ctl[PANEL_END] = half; ctl[BATCH_OFFSET] = cOffset;
    const generation = Atomics.add(ctl, GENERATION, 1) + 1;
    Atomics.notify(ctl, GENERATION);
    microKernels(this.ap, this.bp, this.c, cOffset, m, n, k, half, panels);
    while (Atomics.load(ctl, DONE) !== generation) Atomics.wait(ctl, DONE, Atomics.load(ctl, DONE));
  }

  terminate(): void {
    Atomics.store(this.control, GENERATION, -1);
    Atomics.notify(this.control, GENERATION);
    void this.worker.terminate();
  }
}
