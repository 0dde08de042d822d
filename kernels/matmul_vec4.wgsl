// matmul_vec4.wgsl: C[batch] = op(A[batch]) x op(B[batch]) reading A and B as
// vec4s, for sizes aligned to 4 (the host checks: k % 4 == 0; m % 4 == 0 when A is
// transposed; n % 4 == 0 when B is not). Each invocation owns a 4x4 block of C
// and steps 4 along k at a time: a 4x4 block of op(A) and of op(B) arrive as
// 4 + 4 vec4 loads and the block update is 4 matrix-vector products (64 FMAs).
// No shared memory: barriers are what is slow on llvmpipe (DESIGN.md).
// matmul.wgsl handles every other shape.
// Bindings: 0 params {batch, m, k, n, batchStrideA, batchStrideB} (strides in floats),
//           1 a: vec4f, 2 b: vec4f, 3 c: f32[batch, m, n].
// Dispatch: (ceil(n / 4 / TILE_COLUMNS), ceil(m / 4 / TILE_ROWS), batch).

override TILE_COLUMNS: u32 = 8;
override TILE_ROWS: u32 = 8;
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params { batch: u32, m: u32, k: u32, n: u32, batchStrideA: u32, batchStrideB: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(TILE_COLUMNS, TILE_ROWS)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let row0 = id.y * 4u;
  let column0 = id.x * 4u;
  let batch = id.z;
  if (row0 >= params.m || column0 >= params.n) { return; }
  let m = params.m;
  let k = params.k;
  let n = params.n;
  let baseA = batch * params.batchStrideA;
  let baseB = batch * params.batchStrideB;
  // Rows (or columns) past the edge are clamped to the last one; their results are dropped.
  let rows = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(m - 1u));
  let columns = min(vec4u(column0) + vec4u(0u, 1u, 2u, 3u), vec4u(n - 1u));
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var depth = 0u; depth < k; depth += 4u) {
    // aRows[r] = op(A)[row0 + r, depth .. depth + 3]
    var aRows: mat4x4f;
    if (TRANS_A) {
      // A is [k, m]: each vec4 holds op(A)[row0 .. row0 + 3, depth + q]; transpose the block.
      aRows = transpose(mat4x4f(a[(baseA + depth * m + row0) / 4u], a[(baseA + (depth + 1u) * m + row0) / 4u],
                                a[(baseA + (depth + 2u) * m + row0) / 4u], a[(baseA + (depth + 3u) * m + row0) / 4u]));
    } else {
      aRows = mat4x4f(a[(baseA + rows.x * k + depth) / 4u], a[(baseA + rows.y * k + depth) / 4u],
                      a[(baseA + rows.z * k + depth) / 4u], a[(baseA + rows.w * k + depth) / 4u]);
    }
    // bRows: column q of the matrix is op(B)[depth + q, column0 .. column0 + 3]
    var bRows: mat4x4f;
    if (TRANS_B) {
      // B is [n, k]: each vec4 holds op(B)[depth .. depth + 3, column]; transpose the block.
      bRows = transpose(mat4x4f(b[(baseB + columns.x * k + depth) / 4u], b[(baseB + columns.y * k + depth) / 4u],
                                b[(baseB + columns.z * k + depth) / 4u], b[(baseB + columns.w * k + depth) / 4u]));
    } else {
      bRows = mat4x4f(b[(baseB + depth * n + column0) / 4u], b[(baseB + (depth + 1u) * n + column0) / 4u],
                      b[(baseB + (depth + 2u) * n + column0) / 4u], b[(baseB + (depth + 3u) * n + column0) / 4u]);
    }
    // C[row0 + r, :] += sum_q op(A)[row0 + r, depth + q] * op(B)[depth + q, :]
    acc[0] += bRows * aRows[0];
    acc[1] += bRows * aRows[1];
    acc[2] += bRows * aRows[2];
    acc[3] += bRows * aRows[3];
  }
  let outBase = batch * m * n;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= m) { break; }
    for (var q = 0u; q < 4u; q++) {
      let column = column0 + q;
      if (column < n) { c[outBase + row * n + column] = acc[r][q]; }
    }
  }
}
