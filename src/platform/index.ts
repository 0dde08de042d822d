// The platform the engine runs on (see ./types.ts). This file names the Node
// implementation; bundling for a browser maps ./node.js to ./browser.js.

export type { Platform, HelperThread, FoundAdapter, AdapterRequest } from './types.js';
export { platform } from './node.js';
