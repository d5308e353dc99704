// The console's entry point: the session, the navigation (#/section/...), and which
// view renders into <main>.

import { holds, onSessionEnd, session, signOut } from './api.js';
import { h, replace } from './dom.js';
import { renderSignIn } from './signin.js';
import { renderClients } from './clients.js';
import { renderClient } from './client.js';
import { renderScopes } from './scopes.js';
import { renderIssuers } from './issuers.js';
import { renderRevocations } from './revocations.js';
import { renderAudit } from './audit.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const sessionBar = document.getElementById('session');
const who = document.getElementById('who');

const views = {
  clients: (params) => (params.length ? renderClient(main, params[0]) : renderClients(main)),
  scopes: () => renderScopes(main),
  issuers: () => renderIssuers(main),
  revocations: () => renderRevocations(main),
  audit: () => renderAudit(main),
};

// #/clients/cid_x -> ['clients', 'cid_x']; anything else is the clients page.
function route() {
  const hash = window.location.hash;
  if (!hash.startsWith('#/')) return ['clients'];
  const parts = hash.slice(2).split('/').filter(Boolean).map(decodeURIComponent);
  return parts.length && views[parts[0]] ? parts : ['clients'];
}

function render(notice) {
  const signedIn = session();
  nav.hidden = !signedIn;
  sessionBar.hidden = !signedIn;
  if (!signedIn) {
    replace(who);
    renderSignIn(main, notice, () => render());
    return;
  }
  replace(who, 'Signed in as ', h('code', {}, signedIn.clientId));
  const [section, ...params] = route();
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  views[section](params);
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => {
  // In-page links that are not routes (none today) do not re-render.
  if (window.location.hash.startsWith('#/') || window.location.hash === '') render();
});

document.getElementById('sign-out').addEventListener('click', async () => {
  const revoked = holds('token:revoke');
  await signOut();
  render(revoked ? 'Signed out: the token is revoked and forgotten.'
    : 'Signed out: the token is forgotten (it stays valid until it expires: your client lacks token:revoke).');
});

onSessionEnd((message) => render(message));
render();
