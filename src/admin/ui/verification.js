'use strict';
// The operator page's identity-verification parts: a signup's KYC history and refresh, and Capa's webhook inbox.
(() => {
  const $ = (id) => document.getElementById(id);
  const page = () => window.operatorPage;
  const OUTCOMES = ['received', 'applied', 'duplicate', 'unmatched', 'unreadable', 'ignored', 'rejectedSignatures'];
  const BODY_CHARS = 200;
  const inbox = { cursor: null, nextCursor: null };

  function showKycHistory(history) {
    const { cell, formatTime } = page();
    $('kyc-history-rows').replaceChildren(
      ...history.map((entry) => {
        const row = document.createElement('tr');
        row.dataset.testid = 'kyc-history-row';
        row.append(cell(formatTime(entry.receivedAt)), cell(entry.event), cell(entry.status), cell(entry.outcome));
        return row;
      }),
    );
  }

  async function refreshKyc() {
    const selected = page().selectedId();
    if (selected === null) return;
    await page().api('POST', `/admin/users/${encodeURIComponent(selected)}/kyc/refresh`);
    await page().refreshAfterAction();
  }

  async function loadWebhooks(append = false) {
    const { api, cell, formatTime } = page();
    const params = new URLSearchParams({ limit: '20' });
    const search = $('webhook-search').value.trim();
    const outcome = $('webhook-outcome').value;
    const source = $('webhook-source').value;
    if (search !== '') params.set('search', search);
    if (outcome !== '') params.set('outcome', outcome);
    if (source !== '') params.set('source', source);
    if (append && inbox.nextCursor !== null) params.set('cursor', inbox.nextCursor);
    const [list, stats, reconciliation] = await Promise.all([api('GET', `/admin/webhooks?${params}`), api('GET', '/admin/stats'), api('GET', '/admin/reconciliation')]);
    for (const name of OUTCOMES) document.querySelector(`[data-testid="webhook-stat-${name}"]`).textContent = String(stats.webhooks[name]);
    $('reconciliation-summary').textContent = reconciliationSummary(reconciliation, formatTime);
    inbox.nextCursor = list.nextCursor;
    const rows = list.items.map((entry) => {
      const row = document.createElement('tr');
      row.dataset.testid = 'webhook-row';
      const body = entry.body.length > BODY_CHARS ? `${entry.body.slice(0, BODY_CHARS)}…` : entry.body;
      const source = entry.source === 'reconciled' ? `reconciled (${entry.notificationId})` : entry.source;
      const outcomeText = entry.outcomeReason ? `${entry.outcome} (${entry.outcomeReason})` : entry.outcome;
      row.append(cell(formatTime(entry.receivedAt)), cell(outcomeText), cell(source, 'mono'), cell(entry.type), cell(entry.event), cell(entry.externalUserId, 'mono'), cell(body, 'mono body'));
      return row;
    });
    if (append) $('webhook-rows').append(...rows);
    else $('webhook-rows').replaceChildren(...rows);
    $('webhook-next').disabled = list.nextCursor === null;
  }

  function reconciliationSummary(state, formatTime) {
    const { seen, applied, duplicate, retried, retryRefused } = state.notifications;
    const run = state.lastRunAt === null ? 'no run yet' : `last run ${formatTime(state.lastRunAt)}${state.lastError ? ` failed: ${state.lastError}` : ''}`;
    return `${run}; FAILED notifications seen ${seen}, applied ${applied}, listed again ${duplicate}, retried ${retried}, retry refused ${retryRefused}; users polled ${state.polled}`;
  }

  $('kyc-refresh').addEventListener('click', () => void page().attempt(refreshKyc));
  $('webhook-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void page().attempt(() => loadWebhooks(false));
  });
  $('webhooks-refresh').addEventListener('click', () => void page().attempt(() => loadWebhooks(false)));
  $('webhook-next').addEventListener('click', () => void page().attempt(() => loadWebhooks(true)));

  window.verificationPage = { showKycHistory, loadWebhooks: () => loadWebhooks(false) };
  // app.js runs first and may already have opened the console (a token kept from before a reload).
  if (!$('console').hidden) void page().attempt(() => loadWebhooks(false));
})();
