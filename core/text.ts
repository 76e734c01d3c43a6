/** Small text helpers for messages: did-you-mean suggestions. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The candidate nearest to `word`, if it is near enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  return closestN(word, candidates, 1)[0];
}

/** Up to n candidates near `word`, nearest first (substring matches count as near). */
export function closestN(word: string, candidates: Iterable<string>, n: number): string[] {
  const w = word.toLowerCase();
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = lc.includes(w) || w.includes(lc) ? 0.5 : editDistance(w, lc);
    if (d <= Math.max(2, Math.floor(w.length / 3))) scored.push([c, d]);
  }
  return scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, n).map(([c]) => c);
}

/**
 * A value as a message may echo it: JSON-quoted (control characters escaped, so the message
 * stays one line) and cut to `max` characters with an ellipsis (a 3 MB value is not echoed).
 */
export function shown(value: unknown, max = 80): string {
  const s = value === undefined ? "nothing" : JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A name (key, path segment) for a message: as written when plain, escaped and cut otherwise. */
export function shownName(name: string, max = 80): string {
  const plain = /^[\x20-\x7e]*$/.test(name) ? name : JSON.stringify(name).slice(1, -1);
  return plain.length > max ? `${plain.slice(0, max)}…` : plain;
}
