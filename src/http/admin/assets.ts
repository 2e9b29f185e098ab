/**
 * The Organization page's stylesheet and script, served from memory like http/assets.ts. No inline
 * script or style anywhere: the CSP forbids both. The script only enhances: every action is a plain form.
 */
export const ADMIN_CSS = `
main.wide { max-width:76rem; }
.top { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.25rem; }
.admin-nav { display:flex; flex-wrap:wrap; gap:.25rem 1rem; }
.admin-nav a { color:var(--accent); text-decoration:none; font-weight:600; padding:.15rem 0; }
.admin-nav a[aria-current=page] { border-bottom:2px solid var(--accent); }
.row { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:flex-end; }
.row > div { display:flex; flex-direction:column; }
.row label { margin:0 0 .2rem; font-size:.85rem; }
.row input[type=text], .row input[type=email], .row input[type=search], .row input[type=datetime-local], .row select { padding:.4rem .5rem; border:1px solid var(--line); border-radius:6px; font:inherit; min-width:10rem; background:#fff; }
.row .grow { flex:1 1 14rem; }
.row .grow input { width:100%; }
select { font:inherit; padding:.3rem .4rem; border:1px solid var(--line); border-radius:6px; background:#fff; max-width:100%; }
select:disabled { background:#f0f2f5; color:var(--muted); }
.managed { display:inline-block; margin-top:.25rem; padding:.05rem .5rem; border-radius:999px; background:#eef6ee; color:var(--ok); font-size:.8rem; font-weight:600; }
.why { display:block; color:var(--muted); font-size:.8rem; max-width:22rem; }
.source { font-family:ui-monospace, monospace; font-size:.85rem; }
.role.OW { background:#efe6fb; color:#6b2fb3; }
button.danger, .button.danger { background:#fff; color:var(--bad); border-color:var(--bad); }
button.danger.solid { background:var(--bad); color:#fff; }
button.small, .button.small { padding:.25rem .6rem; font-size:.9rem; }
.flash { border-radius:8px; padding:.75rem 1rem; margin-bottom:1rem; border:1px solid var(--line); background:#fff; }
.flash.ok { border-color:#9fd4ad; background:#effaf2; }
.flash.error { border-color:#f0a7a1; background:#fdf0ef; }
.flash code { word-break:break-all; }
.copy { display:flex; gap:.5rem; margin-top:.5rem; }
.copy input { flex:1; min-width:0; font-family:ui-monospace, monospace; padding:.4rem; border:1px solid var(--line); border-radius:6px; }
.pager { display:flex; flex-wrap:wrap; gap:.75rem; align-items:center; margin-top:.75rem; }
.table-wrap { overflow-x:auto; }
td .actions { display:flex; flex-wrap:nowrap; gap:.4rem; }
table.members td, table.audit td { vertical-align:top; }
table.audit { font-size:.9rem; }
dialog { border:1px solid var(--line); border-radius:10px; padding:1.25rem 1.5rem; max-width:28rem; width:calc(100% - 2rem); }
dialog::backdrop { background:rgba(20,24,33,.45); }
dialog .buttons { display:flex; gap:.5rem; justify-content:flex-end; flex-wrap:wrap; margin-top:1rem; }
.kv { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1rem; }
.kv dt { font-weight:600; color:var(--muted); } .kv dd { margin:0; word-break:break-word; }
.js .js-hide { display:none; }
.sr { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
@media (max-width: 44rem) {
  table.stack thead { display:none; }
  table.stack tr { display:block; border:1px solid var(--line); border-radius:8px; margin-bottom:.75rem; padding:.4rem .6rem; background:#fff; }
  table.stack td { display:flex; gap:.75rem; border-bottom:none; padding:.3rem 0; }
  table.stack td::before { content:attr(data-label); flex:0 0 6.5rem; font-weight:600; color:var(--muted); font-size:.85rem; }
  table.stack td > * { min-width:0; }
  table.stack td { overflow-wrap:anywhere; }
  td .actions { flex-wrap:wrap; }
  .managed { white-space:normal; }
  .row > div, .row .grow { flex:1 1 100%; }
  .row input[type=text], .row input[type=email], .row input[type=search], .row select { min-width:0; width:100%; }
  .kv { grid-template-columns:1fr; }
}
`;

export const ADMIN_JS = `(function () {
  'use strict';
  document.documentElement.classList.add('js');
  document.addEventListener('DOMContentLoaded', function () {
    // Role drop-downs apply on change (the Save button is for browsers without script).
    document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
      select.addEventListener('change', function () {
        if (select.form) select.form.submit();
      });
    });
    // Delete opens a confirmation; only its "Delete Member" button posts.
    var dialog = document.getElementById('delete-dialog');
    document.querySelectorAll('a[data-delete-url]').forEach(function (link) {
      link.addEventListener('click', function (event) {
        if (!dialog || typeof dialog.showModal !== 'function') return;
        event.preventDefault();
        var form = dialog.querySelector('form');
        form.setAttribute('action', link.getAttribute('data-delete-url'));
        dialog.querySelector('[data-name]').textContent = link.getAttribute('data-name');
        dialog.showModal();
      });
    });
    document.querySelectorAll('[data-close-dialog]').forEach(function (button) {
      button.addEventListener('click', function () {
        var d = button.closest('dialog');
        if (d) d.close();
      });
    });
    // Copy buttons next to invite links and new token keys.
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
      button.addEventListener('click', function () {
        var input = document.getElementById(button.getAttribute('data-copy'));
        if (!input) return;
        input.select();
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(function () {});
        button.textContent = 'Copied';
      });
    });
  });
})();
`;
