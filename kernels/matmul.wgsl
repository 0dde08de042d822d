// matmul.wgsl: C[batch] = op(A[batch]) x op(B[batch]), the general version: any
// m, k, n, either operand transposed, batch strides including 0 (broadcast).
// Each invocation owns a 4x4 block of C held in registers (16 accumulators); no
// shared memory, because barriers are what is slow on llvmpipe (DESIGN.md: 0.7
// GFLOP/s with 16x16 shared tiles against 9 with register blocks).
// Loads are clamped into range, so blocks on the ragged edge read valid memory
// and only their in-range results are stored.
// matmul_vec4.wgsl is the faster variant the host picks when the sizes align to 4.
// Bindings: 0 params {batch, m, k, n, batchStrideA, batchStrideB},
//           1 a: f32 ([m, k] per batch, or [k, m] with TRANS_A),
//           2 b: f32 ([k, n] per batch, or [n, k] with TRANS_B), 3 c: f32[batch, m, n].
// Dispatch: (ceil(n / 4 / TILE_COLUMNS), ceil(m / 4 / TILE_ROWS), batch) workgroups of
//           TILE_COLUMNS x TILE_ROWS invocations.

override TILE_COLUMNS: u32 = 8;
override TILE_ROWS: u32 = 8;
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params { batch: u32, m: u32, k: u32, n: u32, batchStrideA: u32, batchStrideB: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

/// op(A)[row, depth] of this batch.
fn loadA(base: u32, row: u32, depth: u32) -> f32 {
  if (TRANS_A) { return a[base + depth * params.m + row]; }
  return a[base + row * params.k + depth];
}

/// op(B)[depth, column] of this batch.
fn loadB(base: u32, depth: u32, column: u32) -> f32 {
  if (TRANS_B) { return b[base + column * params.k + depth]; }
  return b[base + depth * params.n + column];
}

@compute @workgroup_size(TILE_COLUMNS, TILE_ROWS)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let row0 = id.y * 4u;
  let column0 = id.x * 4u;
  let batch = id.z;
  if (row0 >= params.m || column0 >= params.n) { return; }
  let baseA = batch * params.batchStrideA;
  let baseB = batch * params.batchStrideB;
  let rows = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.m - 1u));
  let columns = min(vec4u(column0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.n - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var depth = 0u; depth < params.k; depth++) {
    let bRow = vec4f(loadB(baseB, depth, columns.x), loadB(baseB, depth, columns.y),
                     loadB(baseB, depth, columns.z), loadB(baseB, depth, columns.w));
    acc0 += loadA(baseA, rows.x, depth) * bRow;
    acc1 += loadA(baseA, rows.y, depth) * bRow;
    acc2 += loadA(baseA, rows.z, depth) * bRow;
    acc3 += loadA(baseA, rows.w, depth) * bRow;
  }
  let block = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let outBase = batch * params.m * params.n;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= params.m) { break; }
    for (var q = 0u; q < 4u; q++) {
      let column = column0 + q;
      if (column < params.n) { c[outBase + row * params.n + column] = block[r][q]; }
    }
  }
}
