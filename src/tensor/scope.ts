// Deterministic memory: JS has no destructors and GPU buffers are scarce, so every
// tensor created inside `tidy(fn)` is disposed when fn returns, except what fn
// returns and what was `keep`-ed (parameters, gradients, optimizer state).

interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

export function track(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top && !kept.has(t)) top.add(t);
}

/** Exclude a tensor from every enclosing scope: the caller now owns it and disposes it. */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.delete(t);
  return t;
}

/** Collect the tensors inside a returned value (a tensor, an array, or a plain object of them). */
function collect(value: unknown, out: Set<Disposable>): void {
  if (value === null || typeof value !== 'object') return;
  if (typeof (value as Disposable).dispose === 'function' && 'isDisposed' in (value as object)) {
    out.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out);
}

/**
 * Run fn; dispose every tensor it created except the ones it returns (which move to
 * the enclosing scope). fn must be synchronous: an async fn would let its tensors escape.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: fn must be synchronous; await outside tidy and return tensors from it');
  } finally {
    scopes.pop();
    const survivors = new Set<Disposable>();
    // On an exception `result` is unset and everything is released.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    collect((result! as unknown) ?? null, survivors);
    for (const t of scope) if (!survivors.has(t) && !t.isDisposed) t.dispose();
    const parent = scopes[scopes.length - 1];
    if (parent) for (const t of survivors) if (!kept.has(t)) parent.add(t);
  }
  return result;
}
