/**
 * The Organization pages' stylesheet and script, served from memory like http/assets.ts. No inline
 * script or style anywhere: the CSP forbids both. The script only enhances: every action is a plain form.
 */
export const ADMIN_CSS = `
.admin-nav { display:flex; flex-wrap:wrap; gap:.25rem 1rem; }
.admin-nav a { color:var(--accent); text-decoration:none; font-weight:600; padding:.15rem 0; border-bottom:2px solid transparent; }
.admin-nav a:hover { border-bottom-color:#c6d4f3; }
.admin-nav a[aria-current=page] { border-bottom-color:var(--accent); }
.row { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:flex-end; }
.row > div { display:flex; flex-direction:column; }
.row > div.check { justify-content:flex-end; padding-bottom:.35rem; }
.row label { margin:0 0 .2rem; font-size:.85rem; }
.row .check label { font-weight:400; font-size:.95rem; margin:0; }
.row input[type=text], .row input[type=email], .row input[type=search], .row input[type=datetime-local], .row select { padding:.4rem .5rem; border:1px solid var(--line); border-radius:6px; font:inherit; min-width:10rem; background:#fff; }
.row .grow { flex:1 1 14rem; }
.row .grow input { width:100%; }
select { font:inherit; padding:.3rem .4rem; border:1px solid var(--line); border-radius:6px; background:#fff; max-width:100%; }
select:disabled { background:#f0f2f5; color:var(--muted); }
.small { font-size:.85rem; }
details.managed summary, details.why summary { cursor:pointer; color:var(--ok); font-size:.85rem; font-weight:600; }
details.why summary { color:var(--muted); font-weight:400; }
details.managed .source, details.why .source { display:block; margin-top:.2rem; }
span.managed.scim.off { color:var(--muted); }
.why { display:block; color:var(--muted); font-size:.8rem; max-width:22rem; }
.source { font-family:ui-monospace, monospace; font-size:.8rem; color:var(--muted); overflow-wrap:anywhere; }
.role.OW { background:#efe6fb; color:#6b2fb3; }
button.danger, .button.danger { background:#fff; color:var(--bad); border-color:var(--bad); }
button.danger.solid, .button.danger.solid { background:var(--bad); color:#fff; }
.flash { border-radius:8px; padding:.75rem 1rem; margin-bottom:1rem; border:1px solid var(--line); background:#fff; }
.flash.ok { border-color:#9fd4ad; background:#effaf2; }
.flash.error { border-color:#f0a7a1; background:#fdf0ef; }
.flash code { word-break:break-all; }
.flash ul { margin:.4rem 0 0; padding-left:1.2rem; }
.copy { display:flex; gap:.5rem; margin-top:.5rem; }
.copy input { flex:1; min-width:0; font-family:ui-monospace, monospace; padding:.4rem; border:1px solid var(--line); border-radius:6px; }
.pager { display:flex; flex-wrap:wrap; gap:.75rem; align-items:center; margin-top:.75rem; }
.table-wrap { overflow-x:auto; }
td .actions { display:flex; flex-wrap:nowrap; gap:.4rem; }
table.members td, table.audit td { vertical-align:top; }
th a.sort { color:inherit; text-decoration:none; white-space:nowrap; }
th a.sort:hover { color:var(--accent); }
th .arrow { color:var(--muted); font-size:.8em; }
th.pick, td.pick { width:2rem; }
tr.state-NO td { background:#fffaeb; }
tr.state-DI td { background:#fdf3f2; color:#6b4a47; }
tr.state-DI td a { color:#8a2a1f; }
.stats { list-style:none; display:flex; flex-wrap:wrap; gap:.75rem; padding:0; margin:0 0 1rem; }
.stat a, .stat { text-decoration:none; color:inherit; }
.stat > a, .stats.small .stat { display:flex; flex-direction:column; min-width:9rem; padding:.6rem .9rem; border:1px solid var(--line); border-radius:8px; background:#fafbfc; }
.stat > a:hover { border-color:var(--accent); }
.stat .value { font-size:1.5rem; font-weight:700; line-height:1.2; }
.stat .value .of { font-size:1rem; font-weight:400; color:var(--muted); }
.stat .label { font-size:.85rem; color:var(--muted); }
.stat.NO .value { color:var(--warn); } .stat.DI .value { color:var(--bad); }
.stat.over > a { border-color:var(--bad); background:#fdf0ef; }
.stats.small .stat { min-width:7rem; padding:.4rem .7rem; }
.stats.small .stat .value { font-size:1.2rem; }
.empty { padding:.75rem 1rem; border:1px dashed var(--line); border-radius:8px; background:#fafbfc; }
.bulk { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:center; margin:.5rem 0 .75rem; padding:.5rem .75rem; background:#f4f6fa; border-radius:8px; }
.bulk label.check { font-weight:400; margin:0; }
table.audit { font-size:.9rem; table-layout:auto; }
table.audit td.time, table.audit th.time { white-space:nowrap; }
table.audit td { overflow-wrap:anywhere; }
table.audit .addr { display:block; color:var(--muted); font-size:.8rem; }
table.audit tr.refused td { background:#fdf6f5; }
td.num, th.num { text-align:right; }
tr.unused td { color:var(--muted); }
textarea.code { font-family:ui-monospace, monospace; font-size:.85rem; }
.plan h3 { font-size:1.05rem; } .plan h4 { font-size:1rem; margin:1rem 0 .4rem; }
.issues li { margin:.2rem 0; }
dialog { border:1px solid var(--line); border-radius:10px; padding:1.25rem 1.5rem; max-width:30rem; width:calc(100% - 2rem); }
dialog::backdrop { background:rgba(20,24,33,.45); }
dialog h2 { margin-top:0; }
dialog .buttons { display:flex; gap:.5rem; justify-content:flex-end; flex-wrap:wrap; margin-top:1rem; }
.card.confirm { border-color:var(--bad); }
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
  .row > div, .row .grow { flex:1 1 100%; }
  .row input[type=text], .row input[type=email], .row input[type=search], .row select { min-width:0; width:100%; }
  .kv { grid-template-columns:1fr; }
  .stat > a { min-width:7rem; }
}
`;

export const ADMIN_JS = `(function () {
  'use strict';
  document.documentElement.classList.add('js');
  document.addEventListener('DOMContentLoaded', function () {
    var dialog = document.getElementById('confirm-dialog');
    var pending = null;
    // One dialog for every question: title, text, button; run onOk only after "Confirm".
    function ask(title, text, button, onOk, onCancel) {
      if (!dialog || typeof dialog.showModal !== 'function') {
        if (window.confirm(title + '\\n\\n' + text)) onOk(); else if (onCancel) onCancel();
        return;
      }
      dialog.querySelector('#confirm-title').textContent = title;
      dialog.querySelector('#confirm-text').textContent = text;
      dialog.querySelector('[data-confirm-ok]').textContent = button;
      pending = { ok: onOk, cancel: onCancel };
      dialog.showModal();
      dialog.querySelector('[data-confirm-cancel]').focus();
    }
    if (dialog) {
      dialog.querySelector('[data-confirm-ok]').addEventListener('click', function () {
        var p = pending; pending = null; dialog.close();
        if (p) p.ok();
      });
      dialog.querySelector('[data-confirm-cancel]').addEventListener('click', function () { dialog.close(); });
      dialog.addEventListener('close', function () {
        var p = pending; pending = null;
        if (p && p.cancel) p.cancel();
      });
    }
    function submitConfirmed(form) {
      var field = form.querySelector('input[type=hidden][name=confirmed]');
      if (field) field.value = '1';
      form.submit();
    }
    // Role drop-downs: a choice made with the mouse applies at once; with the keyboard (arrow keys change the
    // value as they move) it waits for the Save button, which then appears. Handing over ownership, and
    // deactivating oneself, ask first either way.
    document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
      var form = select.form;
      if (!form) return;
      var save = form.querySelector('button[type=submit]');
      var pointer = false;
      select.addEventListener('pointerdown', function () { pointer = true; });
      select.addEventListener('keydown', function () { pointer = false; });
      var reset = function () { select.value = select.getAttribute('data-current'); if (save) save.classList.add('js-hide'); };
      form.addEventListener('submit', function (event) {
        var confirmedField = form.querySelector('input[name=confirmed]');
        if (confirmedField && confirmedField.value === '1') return;
        var who = select.getAttribute('data-who');
        if (select.value === 'OW') {
          event.preventDefault();
          ask('Make ' + who + ' the Owner?', 'Ownership moves to ' + who + ': they can then change every role, including yours. You stay an Administrator. Only the new Owner can hand it back.', 'Transfer ownership', function () { submitConfirmed(form); }, reset);
        } else if (select.value === 'DI' && select.getAttribute('data-self') === '1') {
          event.preventDefault();
          ask('Deactivate yourself?', 'You are signed out at once and can no longer open this organization until another administrator gives you a role.', 'Deactivate myself', function () { submitConfirmed(form); }, reset);
        }
      });
      select.addEventListener('change', function () {
        if (select.value === select.getAttribute('data-current')) { if (save) save.classList.add('js-hide'); return; }
        if (pointer && typeof form.requestSubmit === 'function') { form.requestSubmit(); return; }
        if (save) save.classList.remove('js-hide');
      });
    });
    // Delete asks first; only the dialog's button posts.
    document.querySelectorAll('a[data-delete-url]').forEach(function (link) {
      link.addEventListener('click', function (event) {
        event.preventDefault();
        var self = link.getAttribute('data-self') === '1';
        var name = link.getAttribute('data-name');
        var title = self ? 'Delete your own membership?' : 'Delete ' + name + '?';
        var text = self
          ? 'You are signed out at once and lose access to this organization; your name and email are removed and your history shows as "Deleted User".'
          : 'They lose access at once; their name and email are removed, and their history shows as "Deleted User". If they sign in again through SSO they get a new account.';
        ask(title, text, self ? 'Delete myself' : 'Delete Member', function () {
          var form = document.createElement('form');
          form.method = 'post';
          form.action = link.getAttribute('data-delete-url');
          var csrf = document.querySelector('input[name=csrf]');
          [['csrf', csrf ? csrf.value : ''], ['confirmed', '1']].forEach(function (pair) {
            var input = document.createElement('input');
            input.type = 'hidden'; input.name = pair[0]; input.value = pair[1];
            form.appendChild(input);
          });
          document.body.appendChild(form);
          form.submit();
        });
      });
    });
    // Bulk: "select all", a live count, and a question before deactivating or deleting.
    var bulk = document.getElementById('bulk');
    var boxes = function () { return Array.prototype.slice.call(document.querySelectorAll('input[type=checkbox][name=user][form=bulk]')); };
    var counter = document.querySelector('[data-selected-count]');
    function count() {
      var n = boxes().filter(function (b) { return b.checked; }).length;
      if (counter) counter.textContent = n === 0 ? 'Select members with the boxes, then:' : n + ' selected:';
      return n;
    }
    var all = document.querySelector('[data-select-all]');
    if (all) all.addEventListener('change', function () { boxes().forEach(function (b) { b.checked = all.checked; }); count(); });
    boxes().forEach(function (b) { b.addEventListener('change', count); });
    if (bulk) {
      bulk.addEventListener('submit', function (event) {
        var n = count();
        var action = bulk.querySelector('select[name=bulk_action]');
        if (n === 0) { event.preventDefault(); if (counter) counter.textContent = 'Select one or more members first:'; return; }
        var label = action.options[action.selectedIndex].text;
        var me = document.querySelector('[data-self="1"]');
        var selfId = me ? me.closest('tr') && me.closest('tr').getAttribute('data-user-id') : null;
        var includesSelf = boxes().some(function (b) { return b.checked && b.value === selfId; });
        var risky = action.value === 'delete' || action.value === 'deactivate' || includesSelf;
        if (!risky) return;
        event.preventDefault();
        ask(label + ': ' + n + ' member' + (n === 1 ? '' : 's') + '?',
          (action.value === 'delete' ? 'They lose access at once and their names and emails are removed. ' : action.value === 'deactivate' ? 'They lose access at once; their sessions and API tokens end. ' : '') +
          (includesSelf ? 'You are among them. ' : '') + 'Each change goes through the same checks as one at a time: the Owner and the last administrator are kept.',
          label, function () { submitConfirmed(bulk); });
      });
    }
    // A configuration file chosen for the Mapping preview is read into the text box (nothing is uploaded until "Show the plan").
    document.querySelectorAll('input[type=file][data-load-into]').forEach(function (input) {
      input.addEventListener('change', function () {
        var target = document.getElementById(input.getAttribute('data-load-into'));
        var file = input.files && input.files[0];
        if (!target || !file) return;
        file.text().then(function (text) { target.value = text; });
      });
    });
    // Copy buttons next to invitation links and new token keys.
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
