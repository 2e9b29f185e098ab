/**
 * The keys koa signs and checks cookies with (`app.keys`): keygrip, remembering the (data, digest) pairs
 * that verified. Every request of a signed-in browser carries the same session cookie, and keygrip checks it
 * by signing again and comparing through two more HMACs and random bytes (tsscmp): a seventh of a
 * forward-auth decision's CPU. The keys never change while the app runs, so a pair that verified once
 * verifies again under the same key; only such pairs are kept (bounded), so anything else is always checked.
 */
import Keygrip from 'keygrip';

const REMEMBERED_MAX = 10_000;

export function rememberingKeygrip(keys: readonly string[]): Keygrip {
  const grip = new Keygrip([...keys]);
  const index = grip.index.bind(grip);
  const verified = new Map<string, number>();
  grip.index = (data: string, digest: string): number => {
    const pair = `${data}\n${digest}`;
    const known = verified.get(pair);
    if (known !== undefined) return known;
    const found = index(data, digest);
    if (found >= 0) {
      if (verified.size >= REMEMBERED_MAX) verified.clear();
      verified.set(pair, found);
    }
    return found;
  };
  // keygrip's verify calls this.index, so it uses the memory too.
  return grip;
}
