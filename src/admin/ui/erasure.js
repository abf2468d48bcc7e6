'use strict';
// The operator page's erase button: a confirm step, then POST /admin/users/{id}/erase (the page's api(): token or
// session cookie with its CSRF token), and the detail shows erasedAt.
(() => {
  const $ = (id) => document.getElementById(id);
  const page = () => window.operatorPage;

  /** Called by the detail for each signup it shows: nothing to erase once erased, nor while PENDING (409). */
  function show(signup) {
    $('erase').disabled = signup.erasedAt !== null || signup.status === 'PENDING';
    $('erase-form').hidden = true;
  }

  async function eraseSelected() {
    const selected = page().selectedId();
    if (selected === null) return;
    $('erase-form').hidden = true;
    await page().api('POST', `/admin/users/${encodeURIComponent(selected)}/erase`);
    await page().refreshAfterAction();
  }

  $('erase').addEventListener('click', () => {
    $('erase-form').hidden = false;
  });
  $('erase-cancel').addEventListener('click', () => {
    $('erase-form').hidden = true;
  });
  $('erase-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void page().attempt(eraseSelected);
  });

  window.erasurePage = { show };
})();
