/** "Did you mean" for misspelt keys, role names and enum values: a misspelling must never pass silently. */

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const cur = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Lower-case and drop separators, so `publicUrl`, `Public-URL` and `public_url` compare equal. */
function squash(s: string): string {
  return s.toLowerCase().replace(/[\s_-]/g, '');
}

/**
 * The candidate closest to `input`: equal ignoring case and separators, else within edit distance 2
 * (ignoring case; less for very short inputs), else the only candidate that is a prefix of `input` or has it as a prefix.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const sq = squash(input);
  if (sq === '') return undefined;
  const same = candidates.find((c) => squash(c) === sq);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = levenshtein(input.toLowerCase(), c.toLowerCase());
    // Two edits turn any 2-letter word into any other: require the input to be longer than the distance + 1.
    if (d < bestDistance && d <= input.length - 2) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  // `Admin` → `Administrator`, `saml_settings` → `saml`: one candidate sharing a prefix of 3+ letters.
  const prefixed = candidates.filter((c) => {
    const sc = squash(c);
    return Math.min(sc.length, sq.length) >= 3 && (sc.startsWith(sq) || sq.startsWith(sc));
  });
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}

/** `a, b or c` */
export function oneOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}
