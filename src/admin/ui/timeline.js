'use strict';
// The operator page's timeline of one user (in the signup's detail), and the #user=<id> link that opens that detail.
(() => {
  const $ = (id) => document.getElementById(id);
  const page = () => window.operatorPage;
  const PAGE_SIZE = 50;
  const state = { externalUserId: null, nextCursor: null };

  /** Shows the newest page of a user's timeline, or (`older`) appends the next one. */
  async function show(externalUserId, older = false) {
    if (!older) state.externalUserId = externalUserId;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (older && state.nextCursor !== null) params.set('cursor', state.nextCursor);
    const result = await page().api('GET', `/admin/users/${encodeURIComponent(externalUserId)}/timeline?${params}`);
    // Another user was opened while this page loaded: it is not this one's anymore.
    if (state.externalUserId !== externalUserId) return;
    const rows = result.items.map(timelineRow);
    if (older) $('timeline-rows').append(...rows);
    else $('timeline-rows').replaceChildren(...rows);
    state.nextCursor = result.nextCursor;
    $('timeline-more').hidden = result.nextCursor === null;
  }

  function timelineRow(item) {
    const { cell, formatTime } = page();
    const row = document.createElement('tr');
    row.dataset.testid = 'timeline-row';
    row.dataset.kind = item.kind;
    // The facts behind the summary, on hover: the API never puts an identifier, alias or link in them.
    row.title = JSON.stringify(item.details);
    row.append(cell(formatTime(item.at)), cell(item.kind, 'kind mono'), cell(item.summary));
    return row;
  }

  /** The page's address for one user, as support shares it: /admin/ui#user=<externalUserId, percent-encoded>. */
  function linkFor(externalUserId) {
    return `#user=${encodeURIComponent(externalUserId)}`;
  }

  function userInHash() {
    const match = /^#user=(.+)$/.exec(window.location.hash);
    if (match === null) return null;
    try {
      return decodeURIComponent(match[1]);
    } catch {
      return null;
    }
  }

  /** Opens the detail the address names (a shared link, or the operator editing it), once signed in. */
  function openFromHash() {
    const externalUserId = userInHash();
    if (externalUserId === null || $('console').hidden || externalUserId === page().selectedId()) return;
    void page().attempt(() => page().openDetail(externalUserId));
  }

  window.addEventListener('hashchange', openFromHash);
  $('timeline-more').addEventListener('click', () => void page().attempt(() => show(state.externalUserId, true)));

  window.timelinePage = { show, linkFor, openFromHash };
  // app.js signed in from the stored token before this script ran.
  openFromHash();
})();
