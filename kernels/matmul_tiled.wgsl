// matmul_tiled.wgsl: C[batch] = op(A[batch]) x op(B[batch]) for real GPUs, where
// workgroup memory and barriers are cheap (on llvmpipe they are not: see
// matmul_vec4.wgsl). A workgroup of WG_X x WG_Y invocations computes a tile of
// (8 WG_Y) x (8 WG_X) outputs; each invocation owns an 8 x 8 register block, as
// four 4 x 4 quadrants (rows 4*ty and 4*(WG_Y + ty), columns 4*tx and
// 4*(WG_X + tx)) so that neighbouring invocations read neighbouring vec4s of
// workgroup memory. Each step along k stages TILE_K columns of op(A) and rows of
// op(B) as vec4s in workgroup memory, then does 64 FMAs per invocation per k from
// 4 vec4 reads. Any shape and transpose: loads past an edge read 0 and stores
// past an edge are dropped. The host picks WG_X, WG_Y, TILE_K from the adapter's
// limits (src/backend/webgpu/variants.ts).
// Bindings: 0 params {batch, m, k, n, batchStrideA, batchStrideB} (strides in floats),
//           1 a: f32, 2 b: f32, 3 c: f32[batch, m, n].
// Dispatch: (ceil(n / (8 WG_X)), ceil(m / (8 WG_Y)), batch).

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 8;
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params { batch: u32, m: u32, k: u32, n: u32, batchStrideA: u32, batchStrideB: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// tileA[kk * 2 WG_Y + q] = op(A)[tileRow + 4q .. 4q + 3, depth0 + kk]
var<workgroup> tileA: array<vec4f, TILE_K * 2u * WG_Y>;
// tileB[kk * 2 WG_X + q] = op(B)[depth0 + kk, tileColumn + 4q .. 4q + 3]
var<workgroup> tileB: array<vec4f, TILE_K * 2u * WG_X>;

/// op(A)[row, depth], 0 past the edge.
fn loadA(base: u32, row: u32, depth: u32) -> f32 {
  if (row >= params.m || depth >= params.k) { return 0.0; }
  if (TRANS_A) { return a[base + depth * params.m + row]; }
  return a[base + row * params.k + depth];
}

/// op(B)[depth, column], 0 past the edge.
fn loadB(base: u32, depth: u32, column: u32) -> f32 {
  if (depth >= params.k || column >= params.n) { return 0.0; }
  if (TRANS_B) { return b[base + column * params.k + depth]; }
  return b[base + depth * params.n + column];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) lane: u32) {
  let groupsA = 2u * WG_Y;
  let groupsB = 2u * WG_X;
  let lanes = WG_X * WG_Y;
  let tileRow = group.y * 4u * groupsA;
  let tileColumn = group.x * 4u * groupsB;
  let baseA = group.z * params.batchStrideA;
  let baseB = group.z * params.batchStrideB;

  // acc[4 * h + i][w-th vec4] : row tileRow + 4 (h WG_Y + ty) + i, columns tileColumn + 4 (w WG_X + tx) + 0..3
  var acc0 = array<vec4f, 8>(); // w = 0
  var acc1 = array<vec4f, 8>(); // w = 1

  for (var depth0 = 0u; depth0 < params.k; depth0 += TILE_K) {
    // Stage the tiles. Consecutive lanes walk the direction that is contiguous in memory.
    for (var e = lane; e < TILE_K * groupsA; e += lanes) {
      var kk: u32;
      var q: u32;
      if (TRANS_A) { q = e % groupsA; kk = e / groupsA; } else { kk = e % TILE_K; q = e / TILE_K; }
      let row = tileRow + 4u * q;
      let depth = depth0 + kk;
      tileA[kk * groupsA + q] = vec4f(loadA(baseA, row, depth), loadA(baseA, row + 1u, depth),
                                      loadA(baseA, row + 2u, depth), loadA(baseA, row + 3u, depth));
    }
    for (var e = lane; e < TILE_K * groupsB; e += lanes) {
      var kk: u32;
      var q: u32;
      if (TRANS_B) { kk = e % TILE_K; q = e / TILE_K; } else { q = e % groupsB; kk = e / groupsB; }
      let column = tileColumn + 4u * q;
      let depth = depth0 + kk;
      tileB[kk * groupsB + q] = vec4f(loadB(baseB, depth, column), loadB(baseB, depth, column + 1u),
                                      loadB(baseB, depth, column + 2u), loadB(baseB, depth, column + 3u));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let a0 = tileA[kk * groupsA + local.y];
      let a1 = tileA[kk * groupsA + WG_Y + local.y];
      let b0 = tileB[kk * groupsB + local.x];
      let b1 = tileB[kk * groupsB + WG_X + local.x];
      for (var i = 0u; i < 4u; i++) {
        acc0[i] += a0[i] * b0;
        acc1[i] += a0[i] * b1;
        acc0[4u + i] += a1[i] * b0;
        acc1[4u + i] += a1[i] * b1;
      }
    }
    workgroupBarrier();
  }

  let outBase = group.z * params.m * params.n;
  for (var h = 0u; h < 2u; h++) {
    for (var i = 0u; i < 4u; i++) {
      let row = tileRow + 4u * (h * WG_Y + local.y) + i;
      if (row >= params.m) { continue; }
      for (var w = 0u; w < 2u; w++) {
        let column0 = tileColumn + 4u * (w * WG_X + local.x);
        var value = acc0[4u * h + i];
        if (w == 1u) { value = acc1[4u * h + i]; }
        for (var q = 0u; q < 4u; q++) {
          if (column0 + q < params.n) { c[outBase + row * params.n + column0 + q] = value[q]; }
        }
      }
    }
  }
}
