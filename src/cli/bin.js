#!/usr/bin/env node
// Runs the CLI from the TypeScript sources through tsx (a devDependency), for tests
// and development in a checkout. The installed `medner` binary is dist/cli/main.js.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
