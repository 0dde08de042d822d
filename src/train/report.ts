// report.html: the learning curves and the per-type F1 of a training run as
// inline SVG, one self-contained file that opens offline.

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  devF1: number | null;
  devPrecision?: number | null;
  devRecall?: number | null;
  /** Training throughput: real tokens per second of the epoch's training steps (dev scoring excluded). */
  tokensPerSecond: number;
  /** Seconds of the epoch's training steps. */
  seconds: number;
  /** Seconds spent scoring the dev set after the epoch, and its throughput. */
  devSeconds?: number;
  devSentencesPerSecond?: number;
  learningRate?: number;
}

export interface TypeScore {
  type: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A line chart of one or more series over epochs. */
export function lineChart(title: string, series: { name: string; color: string; points: [number, number][] }[], yLabel: string): string {
  const width = 520, height = 260, left = 56, right = 16, top = 32, bottom = 40;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p>${escapeHtml(title)}: no data</p>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [yMin, yMax] = [Math.min(...ys, 0), Math.max(...ys)];
  if (yMax === yMin) yMax = yMin + 1;
  const x = (v: number) => left + ((v - xMin) / (xMax - xMin)) * (width - left - right);
  const y = (v: number) => top + (1 - (v - yMin) / (yMax - yMin)) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * (yMax - yMin));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`,
    ...ticks.map((t) => `<line x1="${left}" x2="${width - right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t.toPrecision(3)}</text>`),
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="12">epoch</text>`,
    `<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle" font-size="12">${escapeHtml(yLabel)}</text>`,
    ...[...new Set(xs)].map((e) => `<text x="${x(e)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11">${e}</text>`),
  ];
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([px, py]) => `${x(px)},${y(py)}`).join(' ')}"/>`);
    parts.push(...s.points.map(([px, py]) => `<circle cx="${x(px)}" cy="${y(py)}" r="3" fill="${s.color}"><title>${s.name} epoch ${px}: ${py.toFixed(4)}</title></circle>`));
    parts.push(`<text x="${left + 8 + i * 150}" y="${top + 4}" fill="${s.color}" font-size="12">■ ${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Horizontal bars of F1 per entity type, with support in the label. */
export function barChart(title: string, scores: TypeScore[]): string {
  const rowHeight = 26, left = 160, width = 520, top = 32;
  const height = top + scores.length * rowHeight + 16;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`,
  ];
  scores.forEach((s, i) => {
    const yTop = top + i * rowHeight;
    const barWidth = Math.max(0, s.f1) * (width - left - 60);
    parts.push(`<text x="${left - 8}" y="${yTop + 16}" text-anchor="end" font-size="12">${escapeHtml(s.type)} (${s.support})</text>`);
    parts.push(`<rect x="${left}" y="${yTop + 4}" width="${barWidth}" height="${rowHeight - 8}" fill="#4878d0"><title>P ${s.precision.toFixed(4)} R ${s.recall.toFixed(4)} F1 ${s.f1.toFixed(4)}</title></rect>`);
    parts.push(`<text x="${left + barWidth + 6}" y="${yTop + 16}" font-size="12">${s.f1.toFixed(3)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderReport(options: { title: string; history: EpochRecord[]; perType: TypeScore[]; summary: Record<string, string | number> }): string {
  const { history } = options;
  const loss = lineChart('Training loss', [{ name: 'train loss', color: '#d65f5f', points: history.map((h) => [h.epoch, h.trainLoss]) }], 'loss per sentence');
  const f1 = lineChart(
    'Development scores',
    [
      { name: 'dev F1', color: '#4878d0', points: history.filter((h) => h.devF1 !== null).map((h) => [h.epoch, h.devF1!]) },
      { name: 'dev precision', color: '#6acc64', points: history.filter((h) => h.devPrecision != null).map((h) => [h.epoch, h.devPrecision!]) },
      { name: 'dev recall', color: '#ee854a', points: history.filter((h) => h.devRecall != null).map((h) => [h.epoch, h.devRecall!]) },
    ],
    'entity-level score',
  );
  const rows = Object.entries(options.summary).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('\n');
  const epochs = history
    .map((h) => `<tr><td>${h.epoch}</td><td>${h.trainLoss.toFixed(4)}</td><td>${h.devF1 === null ? '' : h.devF1.toFixed(4)}</td><td>${Math.round(h.tokensPerSecond)}</td><td>${h.seconds.toFixed(1)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}</style>
</head><body>
<h1>${escapeHtml(options.title)}</h1>
<table>${rows}</table>
<div class="charts">${loss}\n${f1}</div>
${barChart('Per-type F1 (best checkpoint)', options.perType)}
<h2>Epochs</h2>
<table><tr><th>epoch</th><th>train loss</th><th>dev F1</th><th>tokens/s</th><th>seconds</th></tr>
${epochs}</table>
</body></html>
`;
}
