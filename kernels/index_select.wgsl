// index_select.wgsl: y[o, j, i] = x[o, index[j], i] for x viewed as [outer, rows, inner]:
// embedding lookup and gathers. Words are moved as raw 32 bits (f32 or i32 alike).
// An index outside [0, rows) yields 0 (the CPU backend throws; a kernel cannot).
// Reference: src/backend/cpu/fused.ts (indexSelect).
// Bindings: 0 params {outer, rows, inner, count}, 1 x: u32 words [outer, rows, inner],
//           2 index: i32[count], 3 y: u32 words [outer, count, inner].
// Dispatch: one invocation per output element.

override WORKGROUP_SIZE: u32 = 256;

struct Params { outer: u32, rows: u32, inner: u32, count: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let flat = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (flat >= params.outer * params.count * params.inner) { return; }
  let i = flat % params.inner;
  let j = (flat / params.inner) % params.count;
  let o = flat / (params.inner * params.count);
  let row = index[j];
  if (row < 0 || u32(row) >= params.rows) {
    y[flat] = 0u;
    return;
  }
  y[flat] = x[(o * params.rows + u32(row)) * params.inner + i];
}
