// rotary.wgsl: the rotary position embedding in Hugging Face's rotate_half layout (GPT-NeoX, as
// ModernBERT applies it to queries and keys). x is [outer, length, inner, dim]; for i < dim/2 the
// pair (x_i, x_{i + dim/2}) at position s turns by the angle with cosine cos[s, i] and sine
// sign * sin[s, i]: sign 1 forward, -1 for the backward pass (a rotation's transpose).
// CPU reference: rotary() in src/backend/cpu/transformer.ts.
// Bindings: 0 params {pairs = outer * length * inner * dim/2, length, inner, half = dim/2, sign},
// 1 x, 2 cos: f32[length * half], 3 sin, 4 y: f32 like x.
// Dispatch: one invocation per pair.

override WORKGROUP_SIZE: u32 = 256;

struct Params { pairs: u32, length: u32, inner: u32, half: u32, sign: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cosTable: array<f32>;
@group(0) @binding(3) var<storage, read> sinTable: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.pairs) { return; }
  let i = index % params.half;
  let vector = index / params.half;               // (o, s, n) flattened
  let s = (vector / params.inner) % params.length;
  let base = vector * 2u * params.half;
  let c = cosTable[s * params.half + i];
  let sn = params.sign * sinTable[s * params.half + i];
  let a = x[base + i];
  let b = x[base + i + params.half];
  y[base + i] = a * c - b * sn;
  y[base + i + params.half] = b * c + a * sn;
}
