// report.html of a search: dev F1 by trial (complete and pruned marked apart) and dev F1
// against each searched setting, as inline SVG in one self-contained file.

import type { SearchSpace } from './space.js';
import type { TrialRecord } from './study.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const COLORS = { complete: '#1f77b4', pruned: '#ff7f0e', failed: '#999999' } as const;

interface Point {
  x: number | string;
  y: number;
  state: TrialRecord['state'];
  label: string;
}

/** A scatter plot; x is numeric (optionally log-scaled) or categorical. */
export function scatter(title: string, xLabel: string, points: Point[], logX = false): string {
  const width = 480, height = 260, left = 56, right = 16, top = 32, bottom = 44;
  if (points.length === 0) return `<p>${escapeHtml(title)}: no trials</p>`;
  const categorical = points.some((p) => typeof p.x !== 'number');
  const categories = categorical ? [...new Set(points.map((p) => String(p.x)))] : [];
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const xs = categorical ? categories.map((_, i) => i) : points.map((p) => tx(p.x as number));
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  if (categorical) [xMin, xMax] = [-0.5, categories.length - 0.5];
  if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1];
  const ys = points.map((p) => p.y);
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (yMax === yMin) [yMin, yMax] = [yMin - 0.05, yMax + 0.05];
  const X = (v: number) => left + ((v - xMin) / (xMax - xMin)) * (width - left - right);
  const Y = (v: number) => top + (1 - (v - yMin) / (yMax - yMin)) * (height - top - bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`,
    ...[0, 0.5, 1].map((f) => yMin + f * (yMax - yMin)).map((t) => `<line x1="${left}" x2="${width - right}" y1="${Y(t)}" y2="${Y(t)}" stroke="#ddd"/><text x="${left - 6}" y="${Y(t) + 4}" text-anchor="end" font-size="11">${t.toFixed(3)}</text>`),
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="12">${escapeHtml(xLabel)}${logX ? ' (log scale)' : ''}</text>`,
    ...(categorical
      ? categories.map((c, i) => `<text x="${X(i)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(c)}</text>`)
      : [xMin, (xMin + xMax) / 2, xMax].map((v) => `<text x="${X(v)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11">${(logX ? 10 ** v : v).toPrecision(3)}</text>`)),
  ];
  for (const p of points) {
    const x = categorical ? categories.indexOf(String(p.x)) : tx(p.x as number);
    parts.push(`<circle cx="${X(x)}" cy="${Y(p.y)}" r="4" fill="${COLORS[p.state]}" fill-opacity="0.8"><title>${escapeHtml(p.label)}</title></circle>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderTuneReport(input: { title: string; trials: TrialRecord[]; space: SearchSpace; best: TrialRecord | null }): string {
  const scored = input.trials.filter((t) => t.value !== null);
  const label = (t: TrialRecord) => `trial ${t.number + 1} (${t.state}): dev F1 ${t.value!.toFixed(4)}`;
  const byTrial = scatter('dev F1 by trial', 'trial', scored.map((t) => ({ x: t.number + 1, y: t.value!, state: t.state, label: label(t) })));
  const bySetting = Object.entries(input.space).map(([key, d]) =>
    scatter(`dev F1 against ${key}`, key, scored.filter((t) => key in t.params).map((t) => ({ x: t.params[key] as number | string, y: t.value!, state: t.state, label: `${label(t)}, ${key} = ${String(t.params[key])}` })), d.type === 'loguniform' || (d.type === 'int' && d.log === true)),
  );
  const seconds = input.trials.reduce((s, t) => s + t.seconds, 0);
  const rows = input.trials.map((t) => `<tr><td>${t.number + 1}</td><td>${t.state}</td><td>${t.value === null ? '' : t.value.toFixed(4)}</td><td>${t.testF1 === null ? '' : t.testF1.toFixed(4)}</td><td>${t.values.length}</td><td>${t.seconds.toFixed(0)}</td><td>${escapeHtml(Object.entries(t.params).map(([k, v]) => `${k}=${String(v)}`).join(', '))}</td></tr>`);
  const best = input.best ? `<p>Best: trial ${input.best.number + 1}, dev F1 ${input.best.value!.toFixed(4)}${input.best.testF1 === null ? '' : `, test F1 ${input.best.testF1.toFixed(4)}`}; ${escapeHtml(JSON.stringify(input.best.params))}</p>` : '<p>No complete trial yet.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}svg{margin:0 1em 1em 0}</style></head>
<body><h1>${escapeHtml(input.title)}</h1>
<p>${input.trials.length} trials (${input.trials.filter((t) => t.state === 'complete').length} complete, ${input.trials.filter((t) => t.state === 'pruned').length} pruned, ${input.trials.filter((t) => t.state === 'failed').length} failed), ${(seconds / 60).toFixed(1)} minutes of training. <span style="color:${COLORS.complete}">● complete</span> <span style="color:${COLORS.pruned}">● pruned</span></p>
${best}
<div>${byTrial}</div><div>${bySetting.join('\n')}</div>
<table><tr><th>trial</th><th>state</th><th>dev F1</th><th>test F1</th><th>epochs</th><th>seconds</th><th>settings</th></tr>
${rows.join('\n')}</table></body></html>
`;
}
