/** The two static files the pages use. Served from memory with long caching; no build step. */
export const APP_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --accent:#2957c4; --bad:#b42318; --warn:#9a6700; --ok:#1a7f37; }
* { box-sizing: border-box; }
/* The menu of the Organization pages and of an admin's own page (pages.ts), so in the stylesheet of both. */
.admin-nav { display:flex; flex-wrap:wrap; gap:.25rem 1rem; }
.admin-nav a { color:var(--accent); text-decoration:none; font-weight:600; padding:.15rem 0; border-bottom:2px solid transparent; }
.admin-nav a:hover { border-bottom-color:#c6d4f3; }
.admin-nav a[aria-current=page] { border-bottom-color:var(--accent); }
body { margin:0; font:16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:#f6f7f9; }
.top { background:#fff; border-bottom:1px solid var(--line); padding:.6rem 1.25rem; display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.25rem; }
.brand { display:inline-flex; align-items:center; gap:.5rem; font-weight:700; color:var(--fg); text-decoration:none; letter-spacing:.02em; }
.mark { display:block; flex:none; }
.who { margin-left:auto; display:flex; align-items:center; gap:.75rem; }
.who-text { display:flex; flex-direction:column; line-height:1.2; text-align:right; font-size:.9rem; }
.who form { margin:0; }
.skip { position:absolute; left:-999px; top:.5rem; background:#fff; padding:.4rem .8rem; border:2px solid var(--accent); border-radius:6px; z-index:10; }
.skip:focus { left:.5rem; }
main { max-width:52rem; margin:2rem auto; padding:0 1rem; }
main.wide { max-width:80rem; }
a { color:var(--accent); }
a:hover { text-decoration-thickness:2px; }
:focus-visible { outline:3px solid #8fb0f5; outline-offset:2px; }
.actions { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:center; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.25rem 1.5rem; margin-bottom:1rem; }
h1 { font-size:1.5rem; margin:.2rem 0 1rem; } h2 { font-size:1.15rem; margin:1.2rem 0 .6rem; }
.muted { color:var(--muted); }
.role { display:inline-block; padding:.1rem .55rem; border-radius:999px; background:#e8eefc; color:var(--accent); font-weight:600; font-size:.9rem; }
.role.NO { background:#fff4d6; color:var(--warn); } .role.DI { background:#fde7e6; color:var(--bad); }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; padding:.45rem .5rem; border-bottom:1px solid var(--line); }
button, .button { display:inline-block; font:inherit; padding:.5rem 1rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button:hover, .button:hover { filter:brightness(.95); }
button.small, .button.small { padding:.25rem .6rem; font-size:.9rem; }
button:disabled { opacity:.55; cursor:not-allowed; }
.orgs { list-style:none; padding:0; margin:0; }
.orgs li { display:flex; flex-wrap:wrap; gap:.75rem; align-items:center; justify-content:space-between; padding:.75rem 0; border-top:1px solid var(--line); }
.orgs li > span { display:flex; flex-direction:column; }
.persona .state { font-size:.85rem; margin-bottom:.4rem; }
.personas { display:grid; grid-template-columns:repeat(auto-fill, minmax(15rem, 1fr)); gap:.75rem; }
.persona { border:1px solid var(--line); border-radius:8px; padding:.75rem; background:#fff; display:flex; flex-direction:column; }
.persona button { width:100%; margin-top:auto; }
.persona .groups { margin-bottom:.5rem; }
.groups { font-family:ui-monospace, monospace; font-size:.85rem; color:var(--muted); word-break:break-word; }
.banner { background:#fff4d6; color:#5c3d00; padding:.5rem 1.25rem; border-bottom:1px solid #f0d48a; font-weight:600; }
.error h1 { color:var(--bad); } code { font-family:ui-monospace, monospace; background:#f0f2f5; padding:.05rem .3rem; border-radius:4px; }
label { display:block; margin:.5rem 0 .2rem; font-weight:600; } input[type=text], input[type=email], textarea { width:100%; padding:.45rem; border:1px solid var(--line); border-radius:6px; font:inherit; }
@media (max-width: 40rem) { main { margin:1rem auto; } .card { padding:1rem; } .who { margin-left:0; } .who-text { text-align:left; } }
`;

/** The favicon: the header's logo mark. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="#2957c4"/><path d="M8 18V10a4 4 0 0 1 4-4h4" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/><circle cx="16.5" cy="16.5" r="2" fill="#9db8f2"/></svg>
`;

/** Submits the dev IdP's SAML form on load (a file, so the CSP can forbid inline script). */
export const AUTOPOST_JS = `document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('saml-post');
  if (form) form.submit();
});
`;

/** A handler serving one in-memory asset, cacheable for an hour (the files change only with a release). */
export function staticAsset(type: 'text/css' | 'application/javascript' | 'image/svg+xml', body: string): (ctx: { type: string; body: unknown; set(field: string, value: string): void }) => void {
  return (ctx) => {
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  };
}
