// copy_strided.wgsl: dst[dstOffset + coords . dstStrides] = src[srcOffset + coords . srcStrides]
// for every coordinate of `shape`: permute, slice, expand, concat and stack are all this.
// Elements are moved as raw 32-bit words, so one kernel serves f32 and i32 tensors.
// Reference: src/backend/cpu/elementwise.ts (copyStrided).
// Bindings: 0 params {shape, srcStrides, dstStrides: 2 x vec4u; rank, size, srcOffset, dstOffset},
//           1 src: u32 words, 2 dst: u32 words (written in place).
// Dispatch: one invocation per copied element.

override WORKGROUP_SIZE: u32 = 256;

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

fn at(values: array<vec4u, 2>, d: u32) -> u32 {
  return values[d / 4u][d % 4u];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  var rest = index;
  var source = params.srcOffset;
  var to = params.dstOffset;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let extent = at(params.shape, u32(d));
    let coordinate = rest % extent;
    rest = rest / extent;
    source += coordinate * at(params.srcStrides, u32(d));
    to += coordinate * at(params.dstStrides, u32(d));
  }
  dst[to] = src[source];
}
