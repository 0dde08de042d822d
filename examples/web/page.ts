// The teaching page's UI: starts the engine worker (engine.ts), draws what it
// reports (loss, dev F1, tokens/s, the CRF transition matrix, the marginals
// lattice of a typed sentence) and moves checkpoints in and out. No engine code
// runs on this thread. window.mednerPage holds the state the browser tests read.
//
// URL parameters: backend=auto|webgpu|cpu, epochs=N, steps=N (stop after N steps),
// evalEvery=N (dev F1 every N steps), autostart=1.

import type { EngineReady, EngineRequest, TaggedSentence } from './engine.js';

interface Entity { start: number; end: number; text: string; label: string; score: number }

interface PageState {
  ready: boolean;
  backend: 'webgpu' | 'cpu' | null;
  label: string;
  adapter: EngineReady['adapter'];
  fallbackReason: string | null;
  training: boolean;
  started: { totalSteps: number; stepsPerEpoch: number; parameters: number } | null;
  losses: { step: number; loss: number; lossPerToken: number; seconds: number; tokens: number }[];
  evals: { step: number; devF1: number }[];
  last: { step: number; epoch: number; loss: number; tokensPerSecond: number; stepsPerSecond: number } | null;
  done: { steps: number; bestDevF1: number; trainingSeconds: number; stepsPerSecond: number; tokensPerSecond: number } | null;
  prediction: { text: string; labels: string[]; entities: Entity[]; sentences: TaggedSentence[] } | null;
  transitions: { labels: string[]; transitions: number[]; start: number[]; end: number[]; allowed: { start: number[]; transitions: number[][]; end: number[] } | null } | null;
  loaded: { model: string; labels: string[]; metrics: Record<string, number> } | null;
  saved: string[] | null;
  errors: string[];
}

const state: PageState = {
  ready: false, backend: null, label: '', adapter: null, fallbackReason: null, training: false, started: null,
  losses: [], evals: [], last: null, done: null, prediction: null, transitions: null, loaded: null, saved: null, errors: [],
};
(window as unknown as { mednerPage: unknown }).mednerPage = { state, tag, save };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const backendChoice = (params.get('backend') ?? 'auto') as 'auto' | 'webgpu' | 'cpu';
$<HTMLSelectElement>('backend').value = backendChoice;
if (params.get('epochs')) $<HTMLInputElement>('epochs').value = params.get('epochs')!;

const engine = new Worker(new URL('./engine.js', import.meta.url), { type: 'module' });
const send = (request: EngineRequest, transfer: Transferable[] = []) => engine.postMessage(request, transfer);

function setStatus(text: string, isError = false): void {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function setButtons(): void {
  const idle = state.ready && !state.training;
  $<HTMLButtonElement>('train').disabled = !idle;
  $<HTMLButtonElement>('stop').disabled = !state.training;
  $<HTMLButtonElement>('tag').disabled = !idle || !state.transitions;
  $<HTMLButtonElement>('save').disabled = !idle || !state.transitions;
}

// ---------- drawing ----------

function lineChart(canvas: HTMLCanvasElement, points: { x: number; y: number }[], options: { yMin?: number; yMax?: number; xMax?: number; color: string; dots?: boolean }): void {
  const g = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const pad = { left: 44, right: 10, top: 10, bottom: 22 };
  g.clearRect(0, 0, width, height);
  const xMax = Math.max(options.xMax ?? 0, ...points.map((p) => p.x), 1);
  const yMin = options.yMin ?? Math.min(...points.map((p) => p.y), 0);
  const yMax = options.yMax ?? Math.max(...points.map((p) => p.y), 1e-6);
  const X = (x: number) => pad.left + (x / xMax) * (width - pad.left - pad.right);
  const Y = (y: number) => height - pad.bottom - ((y - yMin) / (yMax - yMin || 1)) * (height - pad.top - pad.bottom);
  g.strokeStyle = '#ccd1d9';
  g.fillStyle = '#5a6270';
  g.font = '11px system-ui';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    g.beginPath();
    g.moveTo(pad.left, Y(y));
    g.lineTo(width - pad.right, Y(y));
    g.stroke();
    g.fillText(y >= 10 ? y.toFixed(0) : y.toFixed(2), 4, Y(y) + 4);
  }
  g.fillText('0', pad.left, height - 6);
  g.fillText(`${xMax} steps`, width - pad.right - 60, height - 6);
  if (points.length === 0) return;
  g.strokeStyle = options.color;
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((p, i) => (i === 0 ? g.moveTo(X(p.x), Y(p.y)) : g.lineTo(X(p.x), Y(p.y))));
  g.stroke();
  if (options.dots) {
    g.fillStyle = options.color;
    for (const p of points) {
      g.beginPath();
      g.arc(X(p.x), Y(p.y), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }
}

function drawCharts(): void {
  const xMax = state.started?.totalSteps ?? 0;
  // A running mean over 10 steps: single-batch losses jump with sentence length.
  const smoothed = state.losses.map((p, i) => {
    const window = state.losses.slice(Math.max(0, i - 9), i + 1);
    return { x: p.step, y: window.reduce((s, q) => s + q.loss, 0) / window.length };
  });
  lineChart($<HTMLCanvasElement>('loss-chart'), smoothed, { color: '#2456c9', yMin: 0, xMax });
  lineChart($<HTMLCanvasElement>('f1-chart'), state.evals.map((e) => ({ x: e.step, y: e.devF1 })), { color: '#1d8a3a', yMin: 0, yMax: 1, xMax, dots: true });
}

/** Diverging colour: blue for high scores, red for low, white at zero. */
function diverging(value: number, scale: number): string {
  const t = Math.max(-1, Math.min(1, value / (scale || 1)));
  const a = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? `rgb(${a},${Math.round(a + (255 - a) * 0.35)},255)` : `rgb(255,${a},${a})`;
}

function drawTransitions(): void {
  const t = state.transitions;
  const canvas = $<HTMLCanvasElement>('transitions');
  const g = canvas.getContext('2d')!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!t) return;
  const C = t.labels.length;
  const left = 84, top = 64;
  const cell = Math.min((canvas.width - left - 8) / (C + 1), (canvas.height - top - 8) / (C + 1));
  // Constrained transitions (O -> I-X) hold a large penalty; scale by the largest unconstrained score.
  const shown = [...t.transitions, ...t.start, ...t.end].filter((v) => Math.abs(v) < 1e3);
  const scale = Math.max(...shown.map(Math.abs), 1e-6);
  g.font = '11px system-ui';
  g.textBaseline = 'middle';
  const rows = ['start', ...t.labels];
  const cols = [...t.labels, 'end'];
  rows.forEach((name, i) => {
    g.fillStyle = '#1d2330';
    g.fillText(name, 4, top + i * cell + cell / 2);
    cols.forEach((_, j) => {
      let value: number | null;
      let allowed = true;
      if (i === 0) {
        value = j < C ? t.start[j]! : null;
        allowed = j >= C || !t.allowed || t.allowed.start[j] === 1;
      } else {
        value = j < C ? t.transitions[(i - 1) * C + j]! : t.end[i - 1]!;
        allowed = !t.allowed || (j < C ? t.allowed.transitions[i - 1]![j] === 1 : t.allowed.end[i - 1] === 1);
      }
      const x = left + j * cell, y = top + i * cell;
      if (value === null) return;
      if (!allowed) {
        g.fillStyle = '#3a3f4a'; // forbidden by the BIO constraints
        g.fillRect(x, y, cell - 1, cell - 1);
        return;
      }
      g.fillStyle = diverging(value, scale);
      g.fillRect(x, y, cell - 1, cell - 1);
      g.fillStyle = '#1d2330';
      g.textAlign = 'center';
      g.fillText(value.toFixed(1), x + cell / 2, y + cell / 2);
      g.textAlign = 'left';
    });
  });
  cols.forEach((name, j) => {
    g.save();
    g.translate(left + j * cell + cell / 2, top - 6);
    g.rotate(-Math.PI / 4);
    g.fillStyle = '#1d2330';
    g.fillText(name, 0, 0);
    g.restore();
  });
}

function drawLattice(): void {
  const p = state.prediction;
  const canvas = $<HTMLCanvasElement>('lattice');
  const g = canvas.getContext('2d')!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!p || p.sentences.length === 0) return;
  const sentence = p.sentences[0]!;
  const labels = p.labels;
  const words = sentence.words.slice(0, 18);
  const left = 84, top = 90;
  const cellW = Math.min(60, (canvas.width - left - 8) / words.length);
  const cellH = Math.min(34, (canvas.height - top - 8) / labels.length);
  g.font = '11px system-ui';
  g.textBaseline = 'middle';
  labels.forEach((label, r) => {
    g.fillStyle = '#1d2330';
    g.fillText(label, 4, top + r * cellH + cellH / 2);
  });
  words.forEach((word, c) => {
    g.save();
    g.translate(left + c * cellW + cellW / 2, top - 6);
    g.rotate(-Math.PI / 3);
    g.fillStyle = '#1d2330';
    g.fillText(word.text.length > 14 ? `${word.text.slice(0, 13)}…` : word.text, 0, 0);
    g.restore();
    labels.forEach((label, r) => {
      const prob = sentence.marginals[c]?.[r] ?? 0;
      const x = left + c * cellW, y = top + r * cellH;
      g.fillStyle = `rgba(36, 86, 201, ${prob.toFixed(3)})`;
      g.fillRect(x, y, cellW - 2, cellH - 2);
      g.fillStyle = prob > 0.55 ? 'white' : '#1d2330';
      g.textAlign = 'center';
      g.fillText(prob >= 0.005 ? prob.toFixed(2) : '·', x + cellW / 2, y + cellH / 2);
      g.textAlign = 'left';
      if (sentence.tags[c] === label) {
        g.strokeStyle = '#e07b00';
        g.lineWidth = 2;
        g.strokeRect(x, y, cellW - 2, cellH - 2);
      }
    });
  });
}

function showEntities(): void {
  const p = state.prediction;
  const out = $('entities');
  out.replaceChildren();
  if (!p) return;
  let at = 0;
  for (const e of p.entities) {
    out.append(p.text.slice(at, e.start));
    const mark = document.createElement('mark');
    mark.className = 'entity';
    mark.dataset.label = e.label;
    mark.dataset.start = String(e.start);
    mark.dataset.end = String(e.end);
    mark.title = `${e.label}, mean marginal ${e.score.toFixed(3)}`;
    mark.append(p.text.slice(e.start, e.end));
    const tag = document.createElement('small');
    tag.textContent = `${e.label} ${(e.score * 100).toFixed(0)}%`;
    mark.append(tag);
    out.append(mark);
    at = e.end;
  }
  out.append(p.text.slice(at));
}

// ---------- engine messages ----------

engine.onmessage = (event: MessageEvent) => {
  const m = event.data;
  switch (m.type) {
    case 'ready': {
      Object.assign(state, { ready: true, backend: m.backend, label: m.label, adapter: m.adapter, fallbackReason: m.fallbackReason });
      const badge = $('backend-label');
      badge.textContent = m.label;
      badge.dataset.backend = m.backend;
      setStatus(`${m.corpus.train} training sentences (${m.corpus.tokens.toLocaleString('en-US')} tokens), ${m.corpus.dev} dev sentences loaded.${m.fallbackReason ? ` WebGPU unavailable (${m.fallbackReason}); using the CPU.` : ''} Press Train.`);
      setButtons();
      if (params.get('autostart') === '1') startTraining();
      break;
    }
    case 'started':
      state.started = m;
      setStatus(`Training the default BiLSTM-CRF (${m.parameters.toLocaleString('en-US')} parameters, ${m.labels.join(' ')}): ${m.totalSteps} steps of 16 sentences.`);
      break;
    case 'step':
      state.losses.push({ step: m.step, loss: m.loss, lossPerToken: m.lossPerToken, seconds: m.stepSeconds, tokens: m.tokens });
      state.last = m;
      $('stat-step').textContent = `${m.step} / ${state.started?.totalSteps ?? '?'}`;
      $('stat-epoch').textContent = String(m.epoch);
      $('stat-loss').textContent = m.loss.toFixed(3);
      $('stat-tokens').textContent = Math.round(m.tokensPerSecond).toLocaleString('en-US');
      $('stat-steps').textContent = m.stepsPerSecond.toFixed(2);
      drawCharts();
      break;
    case 'eval':
      state.evals.push({ step: m.step, devF1: m.devF1 });
      $('stat-f1').textContent = m.devF1.toFixed(3);
      drawCharts();
      break;
    case 'transitions':
      state.transitions = m;
      drawTransitions();
      setButtons();
      break;
    case 'done':
      state.done = m;
      state.training = false;
      setStatus(`${m.stopped ? 'Stopped' : 'Done'} after ${m.steps} steps in ${m.trainingSeconds.toFixed(1)} s (${m.stepsPerSecond.toFixed(2)} steps/s); best dev F1 ${m.bestDevF1.toFixed(3)}. Type a sentence and press Tag.`);
      setButtons();
      tag();
      break;
    case 'prediction':
      // The page tags on its own after loading or training: an answer to a request since superseded
      // (the user, or a test, pressed Tag again meanwhile) is dropped, so what shows is the newest text's.
      if (m.id !== lastPredictId) break;
      state.prediction = m;
      showEntities();
      drawLattice();
      break;
    case 'loaded':
      state.loaded = m;
      setStatus(`Loaded a ${m.model} checkpoint (${m.labels.length} tags${m.metrics.dev_f1 !== undefined ? `, dev F1 ${m.metrics.dev_f1.toFixed(3)}` : ''}).`);
      setButtons();
      tag();
      break;
    case 'saved':
      void writeCheckpoint(m.files as Record<string, ArrayBuffer>);
      break;
    case 'error':
      state.errors.push(`${m.request}: ${m.message}`);
      if (m.request === 'init') {
        const badge = $('backend-label');
        badge.textContent = `no ${backendChoice === 'cpu' ? 'CPU' : 'WebGPU'} backend`;
        badge.dataset.backend = 'error';
      }
      state.training = false;
      setStatus(`${m.request} failed: ${m.message}`, true);
      setButtons();
      break;
  }
};
engine.onerror = (event) => {
  state.errors.push(`worker: ${event.message}`);
  setStatus(`The engine worker failed: ${event.message}`, true);
};

// ---------- actions ----------

function startTraining(): void {
  state.training = true;
  state.losses = [];
  state.evals = [];
  state.done = null;
  setButtons();
  const steps = params.get('steps');
  const evalEvery = params.get('evalEvery');
  send({ type: 'train', epochs: Number($<HTMLInputElement>('epochs').value) || 3, ...(steps ? { maxSteps: Number(steps) } : {}), ...(evalEvery ? { evalEvery: Number(evalEvery) } : {}) });
}

/** The id of the newest predict request; the engine answers each with its id. */
let lastPredictId = 0;

function tag(): void {
  send({ type: 'predict', id: ++lastPredictId, text: $<HTMLTextAreaElement>('text').value });
}

/**
 * The checkpoint among the picked files: a checkpoint folder, or a training output folder (`medner
 * train --out`), whose best/ holds the checkpoint to use (last/ holds the one to resume from).
 */
function checkpointFolder(picked: File[]): File[] {
  const folderOf = (f: File) => (f.webkitRelativePath || f.name).split('/').slice(0, -1).join('/');
  const folders = [...new Set(picked.filter((f) => f.name === 'config.json').map(folderOf))];
  const chosen = folders.find((d) => d === 'best' || d.endsWith('/best')) ?? folders.sort((a, b) => a.length - b.length)[0];
  return chosen === undefined ? picked : picked.filter((f) => folderOf(f) === chosen);
}

async function loadFrom(input: HTMLInputElement): Promise<void> {
  const files: Record<string, ArrayBuffer> = {};
  for (const file of checkpointFolder(Array.from(input.files ?? []))) files[file.name] = await file.arrayBuffer();
  send({ type: 'load', files }, Object.values(files));
  input.value = '';
}

type DirectoryPicker = (options?: unknown) => Promise<FileSystemDirectoryHandle>;
/** The folder picked for the next save (the picker must open within the click, so it opens before the engine serialises). */
let saveInto: FileSystemDirectoryHandle | null = null;

async function save(): Promise<void> {
  const picker = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  try {
    saveInto = picker ? await picker({ mode: 'readwrite', id: 'medner-checkpoint' }) : null;
  } catch (error) {
    setStatus(`Saving cancelled: ${(error as Error).message}`);
    return;
  }
  send({ type: 'save' });
}

/** Write the checkpoint's files into the picked folder (Chrome, Edge), else download them one by one. */
async function writeCheckpoint(files: Record<string, ArrayBuffer>): Promise<void> {
  try {
    if (saveInto) {
      for (const [name, data] of Object.entries(files)) {
        const handle = await saveInto.getFileHandle(name, { create: true });
        const writable = await handle.createWritable();
        await writable.write(data);
        await writable.close();
      }
      setStatus(`Saved ${Object.keys(files).join(', ')} into the folder "${saveInto.name}": medner predict --model <that folder> "some text"`);
    } else {
      for (const [name, data] of Object.entries(files)) {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([data]));
        link.download = name;
        link.click();
        URL.revokeObjectURL(link.href);
      }
      setStatus(`Downloaded ${Object.keys(files).join(', ')}: put them in one folder, then medner predict --model <folder> "some text"`);
    }
    state.saved = Object.keys(files);
  } catch (error) {
    state.errors.push(`save: ${(error as Error).message}`);
    setStatus(`Saving failed: ${(error as Error).message}`, true);
  }
}

$('train').addEventListener('click', startTraining);
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('tag').addEventListener('click', tag);
$('save').addEventListener('click', () => void save());
$<HTMLSelectElement>('backend').addEventListener('change', (e) => {
  params.set('backend', (e.target as HTMLSelectElement).value);
  location.search = params.toString();
});
for (const id of ['load-dir', 'load-files']) $<HTMLInputElement>(id).addEventListener('change', (e) => void loadFrom(e.target as HTMLInputElement));

drawCharts();
send({ type: 'init', backend: backendChoice, dataUrl: new URL('../../src/data/sample/', location.href).href });
