// Imported first by the *-gpu-kernels test files: every backend those files create
// uses the kernel set meant for real GPUs (matmul_tiled, one workgroup per row), so
// CI checks it against the CPU backend on llvmpipe (src/backend/webgpu/variants.ts).
process.env.MEDNER_WEBGPU_KERNELS = 'gpu';
