// dropout.wgsl: the inverted-dropout mask, mask[i] = (keep ? scale : 0), from the
// counter-based hash of (seed, i) in src/tensor/random.ts (hash32 = lowbias32,
// hashUniform = top 24 bits). u32 arithmetic wraps like Math.imul, so the mask is
// bit-identical to the CPU backend's.
// keep <=> hashUniform(seed, i) >= p <=> (hash >> 8) >= ceil(p * 2^24) = threshold,
// computed exactly on the host; scale = fround(1 / (1 - p)).
// Bindings: 0 params {size, seededKey = hash32(seed), threshold, scale}, 1 mask: f32[size].
// Dispatch: one invocation per element.

override WORKGROUP_SIZE: u32 = 256;

struct Params { size: u32, seededKey: u32, threshold: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> mask: array<f32>;

/// lowbias32 (Chris Wellons).
fn hash32(input: u32) -> u32 {
  var x = input;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  let bits24 = hash32(index ^ params.seededKey) >> 8u;
  mask[index] = select(0.0, params.scale, bits24 >= params.threshold);
}
