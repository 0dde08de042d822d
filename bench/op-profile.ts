// Where a CPU run spends its time, per backend kernel: preload this module and every call of a
// CpuBackend method is timed (outermost calls only, so a kernel that calls another counts once),
// with the totals printed to stderr at exit. Used to find the costs that bench/*.ts report only
// in total. Timing adds ~1 us per call, so compare kernels with it, not runs with and without it.
//
// Usage: MEDNER_THREADS=1 node --import tsx --import ./bench/op-profile.ts bench/end-to-end.bench.ts --one bilstm-crf:cpu

import { CpuBackend } from '../src/backend/cpu/index.js';

const totals = new Map<string, { calls: number; ms: number }>();
const started = performance.now();
let depth = 0;

for (const name of Object.getOwnPropertyNames(CpuBackend.prototype)) {
  const method = Reflect.get(CpuBackend.prototype, name) as unknown;
  if (name === 'constructor' || typeof method !== 'function') continue;
  Reflect.set(CpuBackend.prototype, name, function (this: CpuBackend, ...args: unknown[]) {
    if (depth > 0) return method.apply(this, args);
    depth++;
    const t = performance.now();
    try {
      return method.apply(this, args);
    } finally {
      depth--;
      // unary, binary and reduce are reported per op: "binary add", "reduce sumSquares".
      const key = ['unary', 'binary', 'reduce'].includes(name) ? `${name} ${String(args[0])}` : name;
      const entry = totals.get(key) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += performance.now() - t;
      totals.set(key, entry);
    }
  });
}

process.on('exit', () => {
  const inKernels = [...totals.values()].reduce((sum, e) => sum + e.ms, 0);
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  console.error(`\nCPU backend kernels: ${inKernels.toFixed(0)} ms of ${(performance.now() - started).toFixed(0)} ms wall`);
  console.error('kernel'.padEnd(26) + 'calls'.padStart(8) + 'ms'.padStart(9) + 'share'.padStart(8));
  for (const [key, e] of rows.slice(0, 30)) console.error(key.padEnd(26) + String(e.calls).padStart(8) + e.ms.toFixed(0).padStart(9) + `${((100 * e.ms) / inKernels).toFixed(1)}%`.padStart(8));
});
