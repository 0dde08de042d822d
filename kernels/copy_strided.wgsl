// copy_strided.wgsl: dst[dstOffset + coords . dstStrides] = src[srcOffset + coords . srcStrides]
// for every coordinate of `shape`: permute, slice, expand, concat and stack are all this.
// Elements are moved as raw 32-bit words, so one kernel serves f32 and i32 tensors.
// Reference: src/backend/cpu/elementwise.ts (copyStrided).
// Bindings: 0 params {shape, srcStrides, dstStrides: 2 x vec4u; rank (= RANK), size, srcOffset, dstOffset},
//           1 src: u32 words, 2 dst: u32 words (written in place).
// Dispatch: one invocation per copied element.

// RANK (override) is the merged rank, so the loop over dimensions has fixed bounds; the
// outermost coordinate is what remains after the others, so rank 1 (every same-shape op)
// has no integer division at all. Dimensions are read from the uniform in place: a helper
// taking the array by value made a per-invocation copy that llvmpipe could not vectorise
// (binary add ran at 7 M elements/s; now 100+).
override WORKGROUP_SIZE: u32 = 256;
override RANK: u32 = 1;

struct Params {
  shape: array<vec4u, 2>,
  srcStrides: array<vec4u, 2>,
  dstStrides: array<vec4u, 2>,
  rank: u32,
  size: u32,
  srcOffset: u32,
  dstOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  var rest = index;
  var source = params.srcOffset;
  var to = params.dstOffset;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coordinate = rest % extent;
    rest = rest / extent;
    source += coordinate * params.srcStrides[d / 4u][d % 4u];
    to += coordinate * params.dstStrides[d / 4u][d % 4u];
  }
  source += rest * params.srcStrides[0].x;
  to += rest * params.dstStrides[0].x;
  dst[to] = src[source];
}
