/**
 * `${VAR}` / `${VAR:-default}` expansion of scalar values, as in a shell or docker compose, so secrets and
 * per-deployment values stay out of the file. Deliberately small: a default may hold references of its own
 * (`${ROLEGATE_PUBLIC_URL:-http://localhost:${PORT:-8080}}`), there are no other operators.
 */

export interface Expansion {
  readonly value: string;
  /** Variables referenced as `${VAR}` (no default) that are unset. */
  readonly unset: readonly string[];
  /** References that are not `${NAME}` or `${NAME:-default}`, as written. */
  readonly malformed: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function hasReference(text: string): boolean {
  return text.includes('${');
}

/**
 * `$$` and a `$` not followed by `{` are kept literally (so secrets containing `$` survive untouched, and
 * `$${X}` writes a literal `$${X}`). `${VAR}` with VAR set to the empty string expands to it; only an unset
 * VAR is an error. `${VAR:-d}` uses `d` when VAR is unset or empty, like the shell.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  let out = '';
  const unset: string[] = [];
  const malformed: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i += 1;
      continue;
    }
    const close = matchingBrace(text, i + 2);
    if (close < 0) {
      malformed.push(text.slice(i));
      break;
    }
    const inner = text.slice(i + 2, close);
    const sep = inner.indexOf(':-');
    const name = sep < 0 ? inner : inner.slice(0, sep);
    const fallback = sep < 0 ? undefined : inner.slice(sep + 2);
    if (!NAME.test(name)) {
      malformed.push(text.slice(i, close + 1));
    } else {
      const value = env[name];
      if (fallback === undefined) {
        if (value === undefined) unset.push(name);
        else out += value;
      } else {
        // The fallback may itself hold references (`${URL:-http://localhost:${PORT:-8080}}`), as in the
        // shell; they are checked always but only count as unset when the fallback is used.
        const nested = expandEnv(fallback, env);
        malformed.push(...nested.malformed);
        if (value === undefined || value === '') {
          out += nested.value;
          unset.push(...nested.unset);
        } else out += value;
      }
    }
    i = close + 1;
  }
  return { value: out, unset, malformed };
}

/** The index of the `}` closing a reference whose name starts at `from`, counting nested `${…}`; -1 if none. */
function matchingBrace(text: string, from: number): number {
  let depth = 0;
  for (let j = from; j < text.length; j += 1) {
    if (text[j] === '$' && text[j + 1] === '{') {
      depth += 1;
      j += 1;
    } else if (text[j] === '}') {
      if (depth === 0) return j;
      depth -= 1;
    }
  }
  return -1;
}
