// The WebGPU training tests of training.test.ts again with the GPU kernel set forced
// on, so a whole training step through matmul_tiled and the per-row kernels is
// checked against the CPU backend in CI.
import './force-gpu-kernels.js';
import './training.test.js';
