'use strict';
// The operator page's imports section: progress of every import, its row errors, cancel. Plain DOM, like app.js,
// and through the admin API only (/admin/imports), with the admin token app.js keeps in sessionStorage.
(() => {
  const TOKEN_KEY = 'capa-onboarding.admin-token';
  const REFRESH_MS = 2000;
  const ERRORS_PAGE = 50;
  const $ = (id) => document.getElementById(id);
  const state = { errorsOf: null, errorsCursor: null };

  async function api(method, path) {
    const response = await fetch(path, { method, headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` } });
    const payload = await response.json().catch(() => null);
    if (!response.ok) throw new Error(payload && typeof payload.message === 'string' ? payload.message : `HTTP ${response.status}`);
    return payload;
  }

  function cell(text, testId) {
    const td = document.createElement('td');
    td.textContent = text;
    if (testId) td.dataset.testid = testId;
    return td;
  }

  /** Rows no longer waiting for Capa, out of all rows of the file. */
  function doneRows(counts) {
    return counts.rows - counts.pending;
  }

  function progressCell(view) {
    const td = document.createElement('td');
    const bar = document.createElement('div');
    bar.className = 'import-progress';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(view.counts.rows));
    bar.setAttribute('aria-valuenow', String(doneRows(view.counts)));
    bar.dataset.testid = 'import-progress';
    const fill = document.createElement('div');
    fill.style.width = `${view.counts.rows === 0 ? 100 : Math.floor((doneRows(view.counts) / view.counts.rows) * 100)}%`;
    bar.append(fill);
    const label = document.createElement('span');
    label.className = 'muted';
    label.textContent = `${doneRows(view.counts)} / ${view.counts.rows}`;
    td.append(bar, label);
    return td;
  }

  function countsText(counts) {
    return [
      `created ${counts.created}`,
      `pending ${counts.pending}`,
      `already registered ${counts.alreadyRegistered}`,
      `invalid ${counts.invalid}`,
      `conflicts ${counts.conflicts}`,
      `failed ${counts.failed}`,
      `needs attention ${counts.needsAttention}`,
      `cancelled ${counts.cancelled}`,
    ].join(' · ');
  }

  function paceText(view) {
    if (view.status !== 'RUNNING') return view.finishedAt ? `finished ${new Date(view.finishedAt).toLocaleString()}` : '–';
    return `${view.ratePerSecond}/s · ${view.etaSeconds === null ? '?' : `${view.etaSeconds} s left`}`;
  }

  function renderImports(items) {
    const body = $('import-rows');
    body.replaceChildren();
    for (const view of items) {
      const row = document.createElement('tr');
      row.dataset.testid = 'import-row';
      row.dataset.importId = view.id;
      row.append(
        cell(new Date(view.createdAt).toLocaleString()),
        cell(view.status, 'import-status'),
        progressCell(view),
        cell(countsText(view.counts), 'import-counts'),
        cell(paceText(view), 'import-pace'),
      );
      const actions = document.createElement('td');
      const errors = document.createElement('button');
      errors.type = 'button';
      errors.className = 'secondary';
      errors.textContent = `Errors (${view.counts.invalid + view.counts.conflicts})`;
      errors.dataset.testid = 'import-errors';
      errors.addEventListener('click', () => void attempt(() => openErrors(view.id)));
      const cancel = document.createElement('button');
      cancel.type = 'button';
      cancel.textContent = 'Cancel';
      cancel.dataset.testid = 'import-cancel';
      cancel.disabled = view.status !== 'RUNNING';
      cancel.addEventListener('click', () => void attempt(() => cancelImport(view.id)));
      actions.append(errors, ' ', cancel);
      row.append(actions);
      body.append(row);
    }
    $('no-imports').hidden = items.length > 0;
  }

  async function loadImports() {
    renderImports((await api('GET', '/admin/imports?limit=20')).items);
  }

  async function cancelImport(id) {
    await api('POST', `/admin/imports/${id}/cancel`);
    await loadImports();
  }

  async function openErrors(id, cursor = null) {
    const page = await api('GET', `/admin/imports/${id}/errors?limit=${ERRORS_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    state.errorsOf = id;
    state.errorsCursor = page.nextCursor;
    $('import-errors-id').textContent = id;
    const body = $('import-error-rows');
    if (cursor === null) body.replaceChildren();
    for (const item of page.items) {
      const row = document.createElement('tr');
      row.dataset.testid = 'import-error-row';
      const details = (item.details ?? []).map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
      row.append(cell(String(item.line)), cell(item.externalUserId ?? ''), cell(item.code), cell(details ? `${item.message} (${details})` : item.message));
      body.append(row);
    }
    $('import-errors-more').hidden = page.nextCursor === null;
    $('import-errors-panel').hidden = false;
  }

  async function attempt(action) {
    $('imports-error').hidden = true;
    try {
      await action();
    } catch (error) {
      $('imports-error').textContent = error.message;
      $('imports-error').hidden = false;
    }
  }

  const visible = () => !$('console').hidden && sessionStorage.getItem(TOKEN_KEY);
  $('imports-refresh').addEventListener('click', () => void attempt(loadImports));
  $('import-errors-more').addEventListener('click', () => void attempt(() => openErrors(state.errorsOf, state.errorsCursor)));
  $('import-errors-close').addEventListener('click', () => {
    $('import-errors-panel').hidden = true;
  });
  // The console is shown by app.js after sign-in: follow it, and keep running imports' progress fresh while visible.
  new MutationObserver(() => {
    if (visible()) void attempt(loadImports);
  }).observe($('console'), { attributes: true, attributeFilter: ['hidden'] });
  setInterval(() => {
    if (visible() && document.visibilityState === 'visible') void attempt(loadImports);
  }, REFRESH_MS);
  if (visible()) void attempt(loadImports);
})();
