'use strict';
// The operator page: plain DOM, no framework. Talks only to the admin API, as the signed-in operator (operator.js).
(() => {
  const auth = window.operatorAuth;
  // The #user= address a sign-in at the identity provider started from (the provider returns to /admin/ui bare).
  const RETURN_TO_KEY = 'capa-onboarding.return-to';
  const PAGE_SIZE = 20;
  const STATUSES = ['PENDING', 'CREATED', 'FAILED', 'NEEDS_ATTENTION'];
  const STATUS_COLOURS = { PENDING: '#d49a00', CREATED: '#2e8540', FAILED: '#c62828', NEEDS_ATTENTION: '#7b3fb5' };

  const $ = (id) => document.getElementById(id);
  // cursors[i] is the cursor that fetched page i+1 (null for the first page); nextCursor fetches the page after.
  const state = { cursors: [null], nextCursor: null, selectedId: null };

  class ApiFailure extends Error {
    constructor(status, body) {
      super(body && typeof body.message === 'string' ? body.message : `HTTP ${status}`);
      this.status = status;
      this.details = body && Array.isArray(body.details) ? body.details : [];
    }
  }

  async function api(method, path, body) {
    const headers = auth.headers(method);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let payload = null;
    try {
      payload = text === '' ? null : JSON.parse(text);
    } catch {
      payload = null;
    }
    if (response.status === 401) {
      auth.forget();
      void showSignIn('You are signed out (the session ended or the token was not accepted). Sign in again.');
      throw new ApiFailure(401, payload);
    }
    if (!response.ok) throw new ApiFailure(response.status, payload);
    return payload;
  }

  function showError(error) {
    if (error instanceof ApiFailure && error.status === 401) return;
    const details = error instanceof ApiFailure ? error.details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)) : [];
    $('error').textContent = [error.message, ...details].join(' — ');
    $('error').hidden = false;
  }

  function clearError() {
    $('error').hidden = true;
    $('error').textContent = '';
  }

  /** Runs an action, showing its error (from the API's error shape) instead of throwing. */
  async function attempt(action) {
    clearError();
    try {
      await action();
    } catch (error) {
      showError(error);
    }
  }

  /** Signed out: the identity provider's sign-in button and, when the service has ADMIN_API_KEY, the token form. */
  async function showSignIn(message) {
    $('console').hidden = true;
    $('logout').hidden = true;
    $('operator-name').hidden = true;
    $('login').hidden = false;
    $('token').value = '';
    if (message) {
      $('error').textContent = message;
      $('error').hidden = false;
    }
    const options = await auth.signInOptions();
    $('oidc-login').hidden = !options.oidc;
    // The identity provider sends the browser back to /admin/ui without the address's #user=: keep it for after.
    $('oidc-login').onclick = () => sessionStorage.setItem(RETURN_TO_KEY, window.location.hash);
    $('login-form').hidden = !options.apiKey;
  }

  /** Signed in: the operator's name, and write buttons only for the operator role (CSS: body.read-only). */
  function showConsole(operator) {
    $('login').hidden = true;
    $('console').hidden = false;
    $('logout').hidden = false;
    $('operator-name').textContent = operator.name ?? operator.email ?? operator.sub;
    $('operator-name').hidden = false;
    document.body.classList.toggle('read-only', !auth.canWrite());
    void attempt(() => Promise.all([loadStats(), loadPage(), window.verificationPage?.loadWebhooks(), window.auditPage?.load()]));
    const returnTo = sessionStorage.getItem(RETURN_TO_KEY);
    sessionStorage.removeItem(RETURN_TO_KEY);
    if (returnTo && !window.location.hash) history.replaceState(null, '', returnTo);
    window.timelinePage?.openFromHash();
  }

  async function start() {
    const operator = await auth.whoAmI();
    if (operator === null) await showSignIn();
    else showConsole(operator);
  }

  // ---- stats and chart

  function setStat(name, text) {
    const card = document.querySelector(`[data-testid="stat-${name}"]`);
    card.textContent = text;
    return card;
  }

  async function loadStats() {
    const stats = await api('GET', '/admin/stats');
    setStat('total', String(stats.total));
    for (const status of STATUSES) setStat(status, String(stats.byStatus[status]));
    setStat('capa-calls', `${stats.capa.calls} (${stats.capa.failures} failed)`);
    setStat('capa-failure-rate', `${(stats.capa.failureRate * 100).toFixed(1)} %`);
    const { p50, p99 } = stats.capa.latencyMs;
    setStat('capa-latency', p50 === null ? 'no calls yet' : `${p50} / ${p99} ms`);
    setStat('capa-circuit', stats.capa.circuit).className = `circuit-${stats.capa.circuit}`;
    $('chart').replaceChildren(...window.signupChart.draw(stats.signupsOverTime, STATUSES, STATUS_COLOURS));
  }

  // ---- list and paging

  async function loadPage() {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const search = $('search').value.trim();
    const status = $('status-filter').value;
    const cursor = state.cursors[state.cursors.length - 1];
    if (search !== '') params.set('search', search);
    if (status !== '') params.set('status', status);
    if ($('kyc-filter').value !== '') params.set('kycStatus', $('kyc-filter').value);
    if (cursor !== null) params.set('cursor', cursor);
    const page = await api('GET', `/admin/users?${params}`);
    state.nextCursor = page.nextCursor;
    $('signup-rows').replaceChildren(...page.items.map(signupRow));
    $('no-rows').hidden = page.items.length > 0;
    $('prev-page').disabled = state.cursors.length <= 1;
    $('next-page').disabled = page.nextCursor === null;
    $('page-number').textContent = `Page ${state.cursors.length}`;
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text ?? '—';
    if (className) td.className = className;
    return td;
  }

  function statusBadge(status) {
    const badge = document.createElement('span');
    badge.className = `badge status-${status}`;
    badge.textContent = status;
    return badge;
  }

  function signupRow(signup) {
    const row = document.createElement('tr');
    row.tabIndex = 0;
    row.dataset.testid = 'signup-row';
    row.dataset.externalUserId = signup.externalUserId;
    const status = cell('');
    status.replaceChildren(statusBadge(signup.status));
    const kyc = cell('');
    kyc.replaceChildren(statusBadge(signup.kyc.status));
    kyc.dataset.testid = 'signup-kyc';
    row.append(cell(signup.externalUserId, 'mono'), status, kyc, cell(signup.userId, 'mono'), cell(signup.identifier), cell(formatTime(signup.createdAt)));
    row.addEventListener('click', () => void attempt(() => openDetail(signup.externalUserId)));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') void attempt(() => openDetail(signup.externalUserId));
    });
    return row;
  }

  function formatTime(iso) {
    return iso ? new Date(iso).toLocaleString() : null;
  }

  // ---- detail, retry, resolve

  async function openDetail(externalUserId) {
    const [signup] = await Promise.all([api('GET', `/admin/users/${encodeURIComponent(externalUserId)}`), window.timelinePage?.show(externalUserId)]);
    state.selectedId = externalUserId;
    const link = window.timelinePage?.linkFor(externalUserId) ?? '#';
    $('detail-link').href = link;
    // The address names the open user, so it can be copied and shared as it is.
    if (window.location.hash !== link) history.replaceState(null, '', link);
    $('detail-id').textContent = signup.externalUserId;
    const fields = [
      ['Status', statusBadge(signup.status), 'detail-status'],
      ['Capa userId', signup.userId, 'detail-user-id'],
      ['Method', signup.method],
      ['Identifier', signup.identifier],
      ['User type', signup.userType],
      ['Alias', signup.alias],
      ['KYC', `${signup.kyc.kind} ${signup.kyc.status}${signup.kyc.linkIssuedAt ? ` (link issued ${formatTime(signup.kyc.linkIssuedAt)})` : ''}`, 'detail-kyc'],
      ['Error', signup.error ? `${signup.error.code}: ${signup.error.message ?? ''}` : null, 'detail-error'],
      ['Capa calls', String(signup.attemptCount)],
      ['Lease', signup.leaseOwner ? `${signup.leaseOwner} until ${formatTime(signup.leaseUntil)}` : null],
      ['Next attempt', formatTime(signup.nextAttemptAt)],
      ['Created', formatTime(signup.createdAt)],
      ['Updated', formatTime(signup.updatedAt)],
      ['Personal data erased', formatTime(signup.erasedAt), 'detail-erased-at'],
    ];
    $('detail-fields').replaceChildren(
      ...fields.flatMap(([label, value, testid]) => {
        const term = document.createElement('dt');
        term.textContent = label;
        const description = document.createElement('dd');
        if (value instanceof Node) description.append(value);
        else description.textContent = value ?? '—';
        if (testid) description.dataset.testid = testid;
        return [term, description];
      }),
    );
    $('attempt-rows').replaceChildren(...signup.attempts.map(attemptRow));
    window.verificationPage?.showKycHistory(signup.kyc.history);
    $('retry').disabled = signup.status === 'CREATED';
    $('resolve').disabled = !(signup.status === 'FAILED' || signup.status === 'NEEDS_ATTENTION');
    $('resolve-form').hidden = true;
    window.erasurePage?.show(signup);
    $('detail').hidden = false;
    $('detail').scrollIntoView({ block: 'nearest' });
  }

  function attemptRow(entry) {
    const row = document.createElement('tr');
    row.dataset.testid = 'attempt-row';
    const error = entry.errorCode ? `${entry.errorCode}${entry.errorMessage ? `: ${entry.errorMessage}` : ''}` : null;
    row.append(
      cell(formatTime(entry.at)),
      cell(entry.actor),
      cell(entry.operation),
      cell(entry.outcome),
      cell(entry.httpStatus === null ? null : String(entry.httpStatus)),
      cell(`${entry.latencyMs} ms`),
      cell(error),
    );
    return row;
  }

  /** After an action, show its effect everywhere: the detail, the current page and the counts. */
  async function refreshAfterAction() {
    await Promise.all([openDetail(state.selectedId), loadPage(), loadStats()]);
  }

  async function retrySelected() {
    $('retry').disabled = true;
    $('retry').textContent = 'Retrying…';
    try {
      await api('POST', `/admin/users/${encodeURIComponent(state.selectedId)}/retry`);
    } finally {
      $('retry').textContent = 'Retry now';
      $('retry').disabled = false;
    }
    await refreshAfterAction();
  }

  async function resolveSelected() {
    const userId = $('resolve-user-id').value.trim();
    await api('POST', `/admin/users/${encodeURIComponent(state.selectedId)}/resolve`, { userId });
    $('resolve-user-id').value = '';
    await refreshAfterAction();
  }

  // ---- wiring

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearError();
    auth.useToken($('token').value.trim());
    void start().then(() => {
      if (auth.current() === null) void showSignIn('That token was not accepted. Enter the admin token (ADMIN_API_KEY).');
    });
  });
  $('logout').addEventListener('click', () => void auth.signOut().then(() => showSignIn()));
  $('refresh').addEventListener('click', () => void attempt(() => Promise.all([loadStats(), loadPage()])));
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.cursors = [null];
    void attempt(loadPage);
  });
  $('next-page').addEventListener('click', () => {
    if (state.nextCursor === null) return;
    state.cursors.push(state.nextCursor);
    void attempt(loadPage);
  });
  $('prev-page').addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    void attempt(loadPage);
  });
  $('retry').addEventListener('click', () => void attempt(retrySelected));
  $('resolve').addEventListener('click', () => {
    $('resolve-form').hidden = !$('resolve-form').hidden;
    if (!$('resolve-form').hidden) $('resolve-user-id').focus();
  });
  $('resolve-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void attempt(resolveSelected);
  });
  $('close-detail').addEventListener('click', () => {
    $('detail').hidden = true;
    state.selectedId = null;
    history.replaceState(null, '', window.location.pathname);
  });

  // verification.js (KYC history, refresh, the webhook inbox) reuses these.
  window.operatorPage = { api, attempt, cell, statusBadge, formatTime, openDetail: (id) => openDetail(id), selectedId: () => state.selectedId, refreshAfterAction };

  void start();
})();
