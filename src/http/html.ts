/** Server-rendered pages. Every interpolated value goes through `escapeHtml`; there is no inline script. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A tagged template that escapes every interpolation unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** The signed-in person, shown at the right of the header on every page they see. */
export interface Who {
  readonly name: string;
  readonly email: string | null;
  readonly organization: string;
  /** The role's name for people ("Administrator"), never its code. */
  readonly role: string;
}

export interface PageOptions {
  readonly banner?: Html;
  readonly who?: Who;
  /** Links next to the brand (the Organization pages' tabs). */
  readonly nav?: Html;
  /** More stylesheets and scripts (files only: the CSP forbids inline ones). */
  readonly head?: Html;
  readonly wide?: boolean;
}

/** The logo mark: a gate-like "r" on the accent colour. Decorative; the brand's text names it. */
export const LOGO_MARK = html`<svg class="mark" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect width="24" height="24" rx="6" fill="#2957c4"/><path d="M8 18V10a4 4 0 0 1 4-4h4" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/><circle cx="16.5" cy="16.5" r="2" fill="#9db8f2"/></svg>`;

function whoBox(who: Who): Html {
  return html`<div class="who"><span class="who-text"><strong>${who.name}</strong><span class="muted">${who.role} · ${who.organization}</span></span>
<form method="post" action="/logout"><button class="secondary small" type="submit">Sign out</button></form></div>`;
}

export function page(title: string, body: Html, opts: PageOptions = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · rolegate</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
${opts.head ?? ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${opts.banner ?? ''}
<header class="top"><a class="brand" href="/">${LOGO_MARK}<span>rolegate</span></a>
${opts.nav ?? ''}
${opts.who === undefined ? '' : whoBox(opts.who)}</header>
<main id="main"${opts.wide === true ? html` class="wide"` : ''}>
${body}
</main>
</body>
</html>
`.value;
}
