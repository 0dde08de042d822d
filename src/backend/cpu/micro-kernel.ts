// The 4x4 register-blocked matmul micro-kernel over packed panels, in a module of its own:
// matmul.ts calls it on the main thread, and parallel.ts ships its source to the worker.

/**
 * C[m, n] (at cOffset) = packed A panels x packed B panels, for A's row panels
 * [panelStart, panelEnd). Self-contained: src/backend/cpu/parallel.ts ships its source to a worker.
 */
export function microKernels(ap: Float32Array<ArrayBufferLike>, bp: Float32Array<ArrayBufferLike>, c: Float32Array<ArrayBufferLike>, cOffset: number, m: number, n: number, k: number, panelStart = 0, panelEnd = Math.ceil(m / 4)): void {
  const nPanels = Math.ceil(n / 4);
  for (let jp = 0; jp < nPanels; jp++) {
    for (let ip = panelStart; ip < panelEnd; ip++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = ip * k * 4;
      let pb = jp * k * 4;
      for (let kk = 0; kk < k; kk++, pa += 4, pb += 4) {
        const a0 = ap[pa]!, a1 = ap[pa + 1]!, a2 = ap[pa + 2]!, a3 = ap[pa + 3]!;
        const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      const i0 = ip * 4;
      const j0 = jp * 4;
      const rows = Math.min(4, m - i0);
      const cols = Math.min(4, n - j0);
      for (let r = 0; r < rows; r++) {
        const row = cOffset + (i0 + r) * n + j0;
        for (let q = 0; q < cols; q++) c[row + q] = block[r * 4 + q]!;
      }
    }
  }
}
