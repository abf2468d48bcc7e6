'use strict';
// The operator page's event deliveries section: per-endpoint backlog and lag, deliveries by status, redeliver.
// Self-contained: it reads the admin token app.js keeps in sessionStorage and loads whenever the console shows.
(() => {
  const TOKEN_KEY = 'capa-onboarding.admin-token';
  const $ = (id) => document.getElementById(id);

  async function api(method, path) {
    const response = await fetch(path, { method, headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body && body.message ? body.message : `HTTP ${response.status}`);
    return body;
  }

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '–' : String(text);
    return td;
  }

  function formatLag(seconds) {
    if (seconds < 1) return '0 s';
    if (seconds < 120) return `${Math.round(seconds)} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  function showError(error) {
    $('events-error').textContent = error.message;
    $('events-error').hidden = false;
  }

  async function loadSummary() {
    const { events } = await api('GET', '/admin/stats');
    $('events-backlog').textContent = String(events.backlog);
    $('events-lag').textContent = formatLag(events.lagSeconds);
    $('events-failed').textContent = String(events.failed);
    $('endpoint-rows').replaceChildren(
      ...events.endpoints.map((endpoint) => {
        const tr = document.createElement('tr');
        tr.append(cell(endpoint.endpoint), cell(endpoint.backlog), cell(endpoint.pending), cell(endpoint.delivered), cell(endpoint.failed), cell(endpoint.oldestUndeliveredAt));
        return tr;
      }),
    );
    $('no-endpoints').hidden = events.endpoints.length > 0;
    const select = $('delivery-endpoint');
    const chosen = select.value;
    select.replaceChildren(new Option('Any endpoint', ''), ...events.endpoints.map((endpoint) => new Option(endpoint.endpoint, endpoint.endpoint)));
    select.value = chosen;
  }

  async function loadDeliveries() {
    const params = new URLSearchParams({ limit: '20' });
    if ($('delivery-status').value !== '') params.set('deliveryStatus', $('delivery-status').value);
    if ($('delivery-endpoint').value !== '') params.set('endpoint', $('delivery-endpoint').value);
    const page = await api('GET', `/admin/events?${params}`);
    $('delivery-rows').replaceChildren(
      ...page.items.map((delivery) => {
        const tr = document.createElement('tr');
        tr.dataset.testid = 'delivery-row';
        const action = document.createElement('td');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'secondary';
        button.textContent = 'Redeliver';
        button.dataset.testid = 'redeliver';
        button.addEventListener('click', () => void run(async () => {
          await api('POST', `/admin/events/${encodeURIComponent(delivery.eventId)}/redeliver`);
          await refresh();
        }));
        action.append(button);
        tr.append(cell(delivery.occurredAt), cell(delivery.type), cell(delivery.externalUserId), cell(delivery.endpoint), cell(delivery.status), cell(delivery.attempts), cell(delivery.lastError), action);
        return tr;
      }),
    );
    $('no-deliveries').hidden = page.items.length > 0;
  }

  async function run(action) {
    $('events-error').hidden = true;
    try {
      await action();
    } catch (error) {
      showError(error);
    }
  }

  const refresh = () => Promise.all([loadSummary(), loadDeliveries()]);

  $('events-refresh').addEventListener('click', () => void run(refresh));
  $('delivery-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void run(loadDeliveries);
  });
  // Load whenever app.js shows the console (after sign-in, or at once with a stored token).
  const console_ = $('console');
  new MutationObserver(() => {
    if (!console_.hidden) void run(refresh);
  }).observe(console_, { attributes: true, attributeFilter: ['hidden'] });
  if (!console_.hidden && sessionStorage.getItem(TOKEN_KEY)) void run(refresh);
})();
