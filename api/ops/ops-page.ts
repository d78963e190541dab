import { REPORT_CSS } from '../../reports/daily-statement-html';

// The /ops page's three static parts: the HTML shell (no data in it, so it needs no token), its
// stylesheet and its script, each served from /ops itself so the CSP can be 'self' only. The script
// logs in with client credentials at POST /oauth/token (or takes a pasted token from an external IdP),
// keeps the access token in sessionStorage (gone when the tab closes; never a cookie, so no CSRF), and
// fetches the panels with it every 15 s.

export const OPS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LoanHub operations</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ops/ops.css">
<script src="/ops/ops.js" defer></script>
</head>
<body>
<header><h1>LoanHub operations</h1><span id="status" role="status"></span></header>
<form id="login" hidden>
  <h2>Log in</h2>
  <p>With the operations client's credentials (<code>loanhub ops client</code>), or paste an access token
  with scope <code>ops:read</code> from the bank's identity provider.</p>
  <label>Client id <input id="client-id" name="client_id" autocomplete="username" value="ops-console"></label>
  <label>Client secret <input id="client-secret" name="client_secret" type="password" autocomplete="current-password"></label>
  <label>or access token <input id="access-token" name="access_token" type="password" autocomplete="off"></label>
  <button type="submit" id="login-button">Log in</button>
</form>
<main id="main" hidden>
  <nav><label>Business date <input id="date" type="date"></label>
  <button type="button" id="refresh">Refresh</button>
  <a id="daily-json" href="#">daily statement (JSON)</a>
  <button type="button" id="logout">Log out</button></nav>
  <div id="panels"></div>
</main>
</body></html>
`;

export const OPS_PAGE_CSS = `${REPORT_CSS}
[hidden]{display:none!important}
header{display:flex;gap:1rem;align-items:baseline}
#status{color:#555;font-size:.85rem}
form#login{max-width:28rem;display:flex;flex-direction:column;gap:.5rem}
form#login label{display:flex;flex-direction:column;font-size:.9rem}
nav{display:flex;gap:1rem;align-items:center;margin-bottom:1rem}
#panels{display:flex;flex-wrap:wrap;gap:1rem}
section.panel{border:1px solid #d5dbe1;border-radius:6px;padding:.5rem 1rem;min-width:18rem}
section.panel.wide{flex-basis:100%}
section.panel table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}
section.panel th,section.panel td{border:1px solid #ddd;padding:.2rem .4rem}
section.panel th{background:#f0f3f6;text-align:left}
.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.note{color:#555;font-size:.8rem}
.generated{flex-basis:100%;margin:0}
.breaker-open,.breaker-isolated{color:#b8433a;font-weight:bold}
.breaker-half-open{color:#d08a1e}
.recon-status[data-status=UNBALANCED]{color:#b8433a;font-weight:bold}
.recon-status[data-status=BALANCED]{color:#3a9b5c;font-weight:bold}`;

export const OPS_PAGE_JS = `'use strict';
(function () {
  var KEY = 'loanhub.ops.token';
  var byId = function (id) { return document.getElementById(id); };
  var login = byId('login'), main = byId('main'), panels = byId('panels'), status = byId('status');
  var dateInput = byId('date');
  function say(text) { status.textContent = text; }
  function showLogin(text) { main.hidden = true; login.hidden = false; say(text || ''); }
  function query() { return dateInput.value ? '?date=' + encodeURIComponent(dateInput.value) : ''; }
  async function refresh() {
    var token = sessionStorage.getItem(KEY);
    if (!token) { showLogin(); return; }
    var res = await fetch('/ops/panels' + query(), { headers: { authorization: 'Bearer ' + token } });
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(KEY);
      showLogin(res.status === 401 ? 'session expired: log in again' : 'this token may not read /ops');
      return;
    }
    if (!res.ok) { say('could not load the panels (' + res.status + ')'); return; }
    panels.innerHTML = await res.text();
    var shown = byId('business-date');
    if (shown && !dateInput.value) dateInput.value = shown.textContent;
    login.hidden = true; main.hidden = false;
    say('updated ' + new Date().toLocaleTimeString());
  }
  login.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var pasted = byId('access-token').value.trim();
    if (pasted) {
      sessionStorage.setItem(KEY, pasted);
    } else {
      var body = new URLSearchParams({
        grant_type: 'client_credentials', scope: 'ops:read',
        client_id: byId('client-id').value, client_secret: byId('client-secret').value
      });
      var res = await fetch('/oauth/token', { method: 'POST', body: body });
      if (!res.ok) { showLogin('log-in refused (' + res.status + ')'); return; }
      sessionStorage.setItem(KEY, (await res.json()).access_token);
    }
    byId('client-secret').value = ''; byId('access-token').value = '';
    await refresh();
  });
  byId('refresh').addEventListener('click', function () { void refresh(); });
  dateInput.addEventListener('change', function () { void refresh(); });
  byId('logout').addEventListener('click', function () { sessionStorage.removeItem(KEY); showLogin('logged out'); });
  byId('daily-json').addEventListener('click', async function (ev) {
    ev.preventDefault();
    var res = await fetch('/ops/api/daily' + query(), { headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } });
    var url = URL.createObjectURL(await res.blob());
    window.open(url, '_blank');
  });
  setInterval(function () { if (!main.hidden) void refresh(); }, 15000);
  void refresh();
})();
`;
