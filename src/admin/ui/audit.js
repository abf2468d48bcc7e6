'use strict';
// The audit log section: who did what, newest first (GET /admin/audit), with an actor/action/target filter.
(() => {
  const $ = (id) => document.getElementById(id);
  const page = () => window.operatorPage;
  const state = { cursors: [null], nextCursor: null };

  function auditRow(entry) {
    const { cell, formatTime } = page();
    const row = document.createElement('tr');
    row.dataset.testid = 'audit-row';
    const actor = entry.actor.name ? `${entry.actor.name} (${entry.actor.sub})` : entry.actor.sub;
    const details = entry.details && Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : null;
    row.append(cell(formatTime(entry.at)), cell(actor), cell(entry.actor.via), cell(entry.action), cell(entry.target, 'mono'), cell(entry.outcome), cell(details, 'mono'));
    return row;
  }

  async function load() {
    const params = new URLSearchParams({ limit: '20' });
    for (const name of ['actor', 'action', 'target']) {
      const value = $(`audit-${name}`).value.trim();
      if (value !== '') params.set(name, value);
    }
    const cursor = state.cursors[state.cursors.length - 1];
    if (cursor !== null) params.set('cursor', cursor);
    const result = await page().api('GET', `/admin/audit?${params}`);
    state.nextCursor = result.nextCursor;
    $('audit-rows').replaceChildren(...result.items.map(auditRow));
    $('no-audit').hidden = result.items.length > 0;
    $('audit-next').disabled = result.nextCursor === null;
    $('audit-prev').disabled = state.cursors.length <= 1;
  }

  function reload() {
    state.cursors = [null];
    void page().attempt(load);
  }

  $('audit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    reload();
  });
  $('audit-refresh').addEventListener('click', reload);
  $('audit-next').addEventListener('click', () => {
    if (state.nextCursor === null) return;
    state.cursors.push(state.nextCursor);
    void page().attempt(load);
  });
  $('audit-prev').addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    void page().attempt(load);
  });

  window.auditPage = { load: reload };
})();
