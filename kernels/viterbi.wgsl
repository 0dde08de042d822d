// viterbi.wgsl: batched Viterbi decoding with the backtracking on the device. One
// workgroup per sequence runs the max-product recursion (lanes split the tags,
// the previous scores live in workgroup memory) and stores backpointers; lane 0
// then follows them from the best last tag. Ties go to the lowest tag index.
// A masked step keeps the scores and points each tag at itself, so backtracking
// passes through it; tags on masked steps are written as 0.
// Reference: src/backend/cpu/crf.ts (viterbi). B = batch, T = steps, C = tags (C <= 256).
// Bindings: 0 params {batch, steps, tags}, 1 emissions: f32[B,T,C], 2 mask: f32[B,T],
//           3 transitions: f32[C,C], 4 start: f32[C], 5 end: f32[C],
//           6 backpointers: i32[B,T,C] (scratch), 7 tags: i32[B,T], 8 score: f32[B].
// Dispatch: B workgroups.

override WORKGROUP_SIZE: u32 = 64;
const MAX_TAGS: u32 = 256u;

struct Params { batch: u32, steps: u32, tags: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> emissions: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> transitions: array<f32>;
@group(0) @binding(4) var<storage, read> start: array<f32>;
@group(0) @binding(5) var<storage, read> end: array<f32>;
@group(0) @binding(6) var<storage, read_write> backpointers: array<i32>;
@group(0) @binding(7) var<storage, read_write> bestTags: array<i32>;
@group(0) @binding(8) var<storage, read_write> score: array<f32>;

var<workgroup> previous: array<f32, MAX_TAGS>;
var<workgroup> current: array<f32, MAX_TAGS>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = group.x;
  let tags = params.tags;
  let steps = params.steps;
  let base = b * steps * tags;
  for (var j = lane; j < tags; j += WORKGROUP_SIZE) { previous[j] = start[j] + emissions[base + j]; }
  workgroupBarrier();
  for (var t = 1u; t < steps; t++) {
    let masked = mask[b * steps + t] == 0.0;
    let row = base + t * tags;
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) {
      if (masked) {
        backpointers[row + j] = i32(j);
        current[j] = previous[j];
      } else {
        var best = negativeInfinity();
        var argBest = 0u;
        for (var i = 0u; i < tags; i++) {
          let candidate = previous[i] + transitions[i * tags + j];
          if (candidate > best) {
            best = candidate;
            argBest = i;
          }
        }
        current[j] = best + emissions[row + j];
        backpointers[row + j] = i32(argBest);
      }
    }
    workgroupBarrier();
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) { previous[j] = current[j]; }
    workgroupBarrier();
  }
  // Lane 0 reads backpointers the other lanes wrote.
  storageBarrier();
  if (lane == 0u) {
    var best = negativeInfinity();
    var tag = 0u;
    for (var j = 0u; j < tags; j++) {
      let candidate = previous[j] + end[j];
      if (candidate > best) {
        best = candidate;
        tag = j;
      }
    }
    score[b] = best;
    for (var step = 0u; step < steps; step++) {
      let t = steps - 1u - step;
      let real = t == 0u || mask[b * steps + t] != 0.0;
      bestTags[b * steps + t] = select(0, i32(tag), real);
      if (t == 0u) { break; } // step 0 has no backpointers
      tag = u32(backpointers[base + t * tags + tag]);
    }
  }
}
