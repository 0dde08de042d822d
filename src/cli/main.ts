#!/usr/bin/env node
// `medner`: the command-line entry point. Each command lives in its own file
// under src/cli and registers itself here. A command file imports commander and light
// modules at the top and the engine, checkpoints and trainer inside its action, so
// `medner --help` starts fast (checked by test/package/pack.test.ts).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerConvert } from './convert.js';
import { registerExport } from './export.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerPredict } from './predict.js';
import { registerBench } from './bench.js';
import { registerCompare } from './compare.js';
import { registerTune } from './tune.js';
import { registerQuantize } from './quantize.js';

/** The version in package.json (two levels up from src/cli and from dist/cli alike). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('medner')
    .description('Medical named-entity recognition on a from-scratch TypeScript deep-learning engine (CPU and WebGPU)')
    .version(packageVersion())
    .showHelpAfterError();
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerConvert(program);
  registerExport(program);
  registerQuantize(program);
  registerBench(program);
  registerCompare(program);
  registerTune(program);
  return program;
}

// A one-line error and a non-zero exit; the stack only with MEDNER_DEBUG=1.
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`medner: ${message}`);
  if (process.env.MEDNER_DEBUG && error instanceof Error) console.error(error.stack);
  process.exitCode = 1;
}
