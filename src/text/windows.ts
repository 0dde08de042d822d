// Sliding windows for sequences longer than the model's maximum length, and the merge that gives each
// position the prediction of the window in which it sits most centrally (the most left and right context).

export interface Window {
  start: number;
  /** Exclusive. */
  end: number;
}

/**
 * Windows of at most `maxLength` positions whose starts advance by `stride` (stride <= maxLength, so every
 * position is covered; the overlap is maxLength - stride). The last window is aligned to the end of the sequence.
 */
export function slidingWindows(length: number, maxLength: number, stride: number): Window[] {
  if (!(maxLength >= 1) || !(stride >= 1) || stride > maxLength) {
    throw new Error(`slidingWindows: need 1 <= stride (${stride}) <= maxLength (${maxLength})`);
  }
  if (length <= maxLength) return [{ start: 0, end: length }];
  const windows: Window[] = [];
  for (let start = 0; ; start += stride) {
    if (start + maxLength >= length) {
      windows.push({ start: length - maxLength, end: length });
      return windows;
    }
    windows.push({ start, end: start + maxLength });
  }
}

/** Distance from a position to the nearer edge of its window: larger means more context on both sides. */
export function centrality(window: Window, position: number): number {
  return Math.min(position - window.start, window.end - 1 - position);
}

/**
 * Merge per-window predictions (predictions[w][i] belongs to position windows[w].start + i) into one per
 * position, each taken from the window where that position is most central (earlier window on ties).
 */
export function mergeWindowPredictions<T>(length: number, windows: readonly Window[], predictions: readonly (readonly T[])[]): T[] {
  if (windows.length !== predictions.length) throw new Error('mergeWindowPredictions: one prediction array per window');
  const merged = new Array<T>(length);
  const bestCentrality = new Array<number>(length).fill(-1);
  windows.forEach((window, w) => {
    const windowPredictions = predictions[w]!;
    if (windowPredictions.length !== window.end - window.start) {
      throw new Error(`mergeWindowPredictions: window ${w} covers ${window.end - window.start} positions but has ${windowPredictions.length} predictions`);
    }
    for (let position = window.start; position < window.end; position++) {
      const score = centrality(window, position);
      if (score > bestCentrality[position]!) {
        bestCentrality[position] = score;
        merged[position] = windowPredictions[position - window.start]!;
      }
    }
  });
  const uncovered = bestCentrality.indexOf(-1);
  if (uncovered >= 0) throw new Error(`mergeWindowPredictions: position ${uncovered} is in no window`);
  return merged;
}
