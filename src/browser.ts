// medner in a browser: the same API as src/index.ts, on the browser platform
// (navigator.gpu, Web Workers, no file system: checkpoints and corpora come in as
// bytes). examples/web/build.ts bundles this file into one ES module, mapping
// src/platform/node.ts to src/platform/browser.ts; CI checks that no `node:`
// import reaches the bundle.

export * from './index.js';
export { tagItems } from './train/tag.js';
export { useBackend } from './backend/registry.js';
export { createWebGpuBackend, type WebGpuBackend } from './backend/webgpu/index.js';
export { parseConll } from './data/conll.js';
