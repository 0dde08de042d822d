// The teaching page in a real browser: Debian's Chromium (no browser download), driven by
// playwright-core, with WebGPU on SwiftShader (--use-webgpu-adapter=swiftshader runs WGSL on
// the CPU, so this needs no GPU). One run on WebGPU, one forcing the CPU backend. Checkpoints
// cross between the page and the CLI both ways, and the CLI's `predict` must find the same
// entities at the same offsets as the page. Missing Chromium or a missing WebGPU adapter fails
// the test: it never skips.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer, type DemoServer } from '../../examples/web/serve.js';

const CHROMIUM = process.env.MEDNER_CHROMIUM ?? '/usr/bin/chromium';
/** DESIGN.md: WebGPU without a GPU (SwiftShader), and a browser that stays off the network. */
export const CHROMIUM_FLAGS = [
  '--headless=new', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];
const SAMPLE = 'src/data/sample';
const SENTENCE = 'Cisplatin-induced nephrotoxicity was reduced by magnesium in patients with ovarian cancer and hypertension.';
/** The screenshot the README shows is refreshed with MEDNER_UPDATE_SCREENSHOT=1; otherwise it goes to a scratch folder. */
const screenshotPath = () => (process.env.MEDNER_UPDATE_SCREENSHOT === '1' ? 'examples/web/screenshot.png' : join(scratch, 'screenshot.png'));

interface Entity { start: number; end: number; text: string; label: string; score: number }
interface PageState {
  ready: boolean;
  backend: 'webgpu' | 'cpu' | null;
  label: string;
  adapter: { vendor: string; architecture: string; description: string; fallback: boolean } | null;
  losses: { step: number; loss: number; lossPerToken: number }[];
  evals: { step: number; devF1: number }[];
  done: { steps: number; stepsPerSecond: number } | null;
  prediction: { text: string; labels: string[]; entities: Entity[]; sentences: { tags: string[]; marginals: number[][] }[] } | null;
  transitions: { labels: string[]; transitions: number[] } | null;
  loaded: { model: string; metrics: Record<string, number> } | null;
  saved: string[] | null;
  errors: string[];
}

let demo: DemoServer;
let browser: Browser;
let scratch: string;
/** A checkpoint trained by the CLI (two epochs on the bundled sample, dev F1 ~0.35): best/ inside. */
let cliCheckpoint: string;

const cli = (args: string[]) => execFileSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `medner predict` on the checkpoint in `dir`: the entities of SENTENCE. */
function cliPredict(dir: string): Entity[] {
  const lines = cli(['predict', '--model', dir, SENTENCE]).trim().split('\n');
  return (JSON.parse(lines[0]!) as { entities: Entity[] }).entities;
}

const offsets = (entities: Entity[]) => entities.map(({ start, end, label, text }) => ({ start, end, label, text }));

async function state(page: Page): Promise<PageState> {
  return page.evaluate(() => (globalThis as unknown as { mednerPage: { state: PageState } }).mednerPage.state);
}

/** Wait until `ready(state)` or an error on the page; fail with the page's errors. */
async function until(page: Page, what: string, ready: string, timeout = 240_000): Promise<PageState> {
  await page.waitForFunction(`(() => { const s = window.mednerPage.state; return s.errors.length > 0 || (${ready}); })()`, null, { timeout, polling: 250 });
  const s = await state(page);
  if (s.errors.length > 0) throw new Error(`page errors while waiting for ${what}: ${s.errors.join('; ')}`);
  return s;
}

async function openPage(query: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  // The save button writes into a folder from showDirectoryPicker: this one hands the files to the test.
  const savedDir = join(scratch, `saved-${query.replace(/\W+/g, '-')}`);
  mkdirSync(savedDir, { recursive: true });
  await page.exposeFunction('mednerTestWrite', (name: string, base64: string) => writeFileSync(join(savedDir, name), Buffer.from(base64, 'base64')));
  await page.addInitScript(() => {
    const toBase64 = (bytes: Uint8Array) => {
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    };
    (globalThis as unknown as { showDirectoryPicker: unknown }).showDirectoryPicker = async () => ({
      name: 'test-checkpoint',
      getFileHandle: async (name: string) => ({
        createWritable: async () => {
          const parts: Uint8Array[] = [];
          return {
            write: async (data: ArrayBuffer) => void parts.push(new Uint8Array(data)),
            close: async () => {
              const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
              parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
              await (globalThis as unknown as { mednerTestWrite: (n: string, b: string) => Promise<void> }).mednerTestWrite(name, toBase64(all));
            },
          };
        },
      }),
    });
  });
  (page as Page & { savedDir?: string }).savedDir = savedDir;
  await page.goto(`${demo.url}?${query}`);
  return page;
}

/**
 * Type `text` and press Tag; the prediction must be that text's. The page also tags on its own (after
 * a load, after training), and `earlier` presses Tag for another text first: an answer to a request
 * superseded by the press must never reach the page's state. Every value the page stores from the
 * press on is recorded (typing, pressing and recording start in one task of the page), so a stale
 * answer fails the test however the arrivals fall between polls.
 */
async function tag(page: Page, text: string, earlier?: string): Promise<PageState> {
  await page.locator('#tag:enabled').waitFor();
  await page.evaluate((texts) => {
    const g = globalThis as unknown as {
      mednerPage: { state: PageState };
      mednerTestStored: (string | null)[];
      document: { getElementById(id: string): { value: string; click(): void } };
    };
    let prediction: PageState['prediction'] = null;
    g.mednerTestStored = [];
    Object.defineProperty(g.mednerPage.state, 'prediction', {
      configurable: true, enumerable: true, get: () => prediction,
      set: (value: PageState['prediction']) => void g.mednerTestStored.push((prediction = value)?.text ?? null),
    });
    for (const typed of texts) {
      g.document.getElementById('text').value = typed;
      g.document.getElementById('tag').click();
    }
  }, earlier === undefined ? [text] : [earlier, text]);
  const s = await until(page, 'the prediction', 's.prediction !== null');
  const stored = await page.evaluate(() => (globalThis as unknown as { mednerTestStored: (string | null)[] }).mednerTestStored);
  expect(stored, `the page stores only the answer to its newest Tag; it stored the answers for ${JSON.stringify(stored)}`).toEqual([text]);
  return s;
}

/** Train `steps` steps from the page's Train button; the loss per token must fall. */
async function trainAndCheck(page: Page, steps: number): Promise<PageState> {
  // The page tags its sentence when training is done: wait for that prediction, not an earlier one.
  await page.evaluate(() => ((globalThis as unknown as { mednerPage: { state: PageState } }).mednerPage.state.prediction = null));
  await page.click('#train');
  const s = await until(page, `${steps} training steps`, 's.done !== null && s.prediction !== null', 400_000);
  expect(s.done!.steps).toBe(steps);
  expect(s.losses).toHaveLength(steps);
  const window = Math.max(3, Math.floor(steps / 4));
  const mean = (xs: { lossPerToken: number }[]) => xs.reduce((a, x) => a + x.lossPerToken, 0) / xs.length;
  const first = mean(s.losses.slice(0, window)), last = mean(s.losses.slice(-window));
  expect(last, `mean loss per token over the first ${window} steps ${first}, over the last ${window} steps ${last}`).toBeLessThan(first * 0.8);
  expect(s.evals.length).toBeGreaterThan(0);
  return s;
}

/** Save from the page's button and return the folder the files went to. */
async function saveCheckpoint(page: Page): Promise<string> {
  await page.evaluate(() => ((globalThis as unknown as { mednerPage: { state: PageState } }).mednerPage.state.saved = null));
  await page.click('#save');
  const s = await until(page, 'the saved checkpoint', 's.saved !== null');
  expect(s.saved).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'words.txt', 'chars.txt', 'README.md']));
  return (page as Page & { savedDir?: string }).savedDir!;
}

/** Load the CLI's checkpoint through the page's folder input: the whole `train --out` folder, whose best/ the page must pick. */
async function loadCliCheckpoint(page: Page): Promise<void> {
  expect(readdirSync(cliCheckpoint)).toEqual(expect.arrayContaining(['best', 'last']));
  await page.setInputFiles('#load-dir', cliCheckpoint);
  const s = await until(page, 'the loaded checkpoint', 's.loaded !== null');
  expect(s.loaded!.metrics.dev_f1).toBeGreaterThan(0);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install chromium; .ci/setup installs it) or MEDNER_CHROMIUM=<path>`);
  scratch = mkdtempSync(join(tmpdir(), 'medner-web-'));
  cliCheckpoint = join(scratch, 'cli-run');
  // The CLI trains a model for the page to load while the bundles build and Chromium starts.
  const training = new Promise<void>((done, fail) => {
    try {
      cli(['train', '--train', `${SAMPLE}/bc5cdr-train.tsv`, '--dev', `${SAMPLE}/bc5cdr-dev.tsv`, '--epochs', '2', '--out', cliCheckpoint, '--no-progress']);
      done();
    } catch (error) {
      fail(error);
    }
  });
  demo = await startDemoServer({ port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  await training;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the teaching page in Chromium', () => {
  it('WebGPU: a SwiftShader adapter, not the CPU fallback; loads a CLI checkpoint and tags as the CLI does; trains, and its checkpoint loads in the CLI', async () => {
    const page = await openPage('backend=webgpu&epochs=1&steps=16&evalEvery=16');
    let s = await until(page, 'the engine', 's.ready');
    expect(s.backend).toBe('webgpu');
    expect(s.adapter?.architecture).toBe('swiftshader');
    expect(await page.textContent('#backend-label')).toMatch(/^WebGPU · google swiftshader/);

    // CLI -> page: the same checkpoint tags SENTENCE the same way in both (WebGPU kernels in the page, CPU in the CLI).
    await loadCliCheckpoint(page);
    s = await tag(page, SENTENCE);
    const expected = cliPredict(cliCheckpoint);
    expect(expected.length, 'the CLI checkpoint finds entities in the test sentence').toBeGreaterThan(0);
    expect(offsets(s.prediction!.entities)).toEqual(offsets(expected));
    s.prediction!.entities.forEach((e, i) => expect(e.score).toBeCloseTo(expected[i]!.score, 3));
    const marginals = s.prediction!.sentences[0]!.marginals;
    for (const row of marginals) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    // Training on WebGPU in the tab, then page -> CLI.
    s = await trainAndCheck(page, 16);
    expect(s.transitions!.transitions).toHaveLength(s.transitions!.labels.length ** 2);
    const saved = await saveCheckpoint(page);
    s = await tag(page, SENTENCE);
    expect(offsets(cliPredict(saved))).toEqual(offsets(s.prediction!.entities));
    await page.close();
  }, 600_000);

  it('CPU forced: trains 100 steps in the tab; the CLI loads the saved checkpoint and finds the same entities at the same offsets', async () => {
    const page = await openPage('backend=cpu&epochs=3&steps=100&evalEvery=50');
    let s = await until(page, 'the engine', 's.ready');
    expect(s.backend).toBe('cpu');
    expect(await page.textContent('#backend-label')).toMatch(/^CPU · WebAssembly SIMD · 2 threads/);
    s = await trainAndCheck(page, 100);
    expect(Math.max(...s.evals.map((e) => e.devF1))).toBeGreaterThan(0.2);
    s = await tag(page, SENTENCE, 'Tag pressed twice: only the second text is shown.');
    expect(s.prediction!.entities.length, '100 steps find entities in the test sentence').toBeGreaterThan(0);
    const saved = await saveCheckpoint(page);
    expect(offsets(cliPredict(saved))).toEqual(offsets(s.prediction!.entities));
    expect((await page.screenshot({ path: screenshotPath(), fullPage: true })).length).toBeGreaterThan(10_000);
    await page.close();
  }, 600_000);
});
