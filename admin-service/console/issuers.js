// Trusted issuers (workload identity): the registered platforms, registering one (keys from
// a jwks_uri or inline), deleting one. Clients bind subjects of them on their own page.

import { api, holds, segment } from './api.js';
import { busy, confirmDialog, field, h, messageBox, replace, table } from './dom.js';

export async function renderIssuers(main) {
  const box = messageBox();
  const listArea = h('div');
  replace(main, h('h1', {}, 'Trusted issuers'),
    h('p', {}, 'Platforms whose tokens authenticate workloads (Kubernetes, SPIFFE, CI systems). '
      + 'Bind their subjects to a client on the client\'s page.'),
    box.element, listArea, registerForm(() => renderIssuers(main)));
  let issuers;
  try {
    issuers = await api('GET', '/api/v1/oauth/issuer');
  } catch (error) {
    box.error(error);
    return;
  }
  const canDelete = holds('federation:delete');
  const rows = issuers.map((issuer) => {
    const cells = [
      h('code', {}, issuer.issuer),
      issuer.id,
      issuer.jwks_uri || `${issuer.keys.length} inline key(s): ${issuer.keys.map((key) => key.kid).join(' ')}`,
      issuer.audiences.length ? issuer.audiences.join(' ') : '(this service\'s issuer URL)',
      issuer.created_at,
    ];
    if (canDelete) {
      const remove = h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete ${issuer.issuer}` }, 'Delete');
      remove.addEventListener('click', async () => {
        if (!(await confirmDialog(`Delete the issuer ${issuer.issuer}?`,
          'Its bindings stop working at once and the older tokens of clients bound through it are revoked.',
          'Delete issuer'))) return;
        const done = await busy(remove, box, async () => { await api('DELETE', `/api/v1/oauth/issuer/${segment(issuer.id)}`); return true; });
        if (done) renderIssuers(main);
      });
      cells.push(remove);
    }
    return cells;
  });
  replace(listArea, issuers.length
    ? table('Registered issuers', ['Issuer (iss)', 'Id', 'Keys', 'Accepted audiences', 'Registered', ...(canDelete ? ['Delete'] : [])], rows)
    : h('p', {}, 'No trusted issuer is registered.'));
}

function registerForm(refresh) {
  if (!holds('federation:create_or_update')) {
    return h('p', { class: 'hint' }, 'Registering issuers needs the scope federation:create_or_update.');
  }
  const issuer = h('input', { id: 'issuer-iss', required: true, spellcheck: 'false' });
  const jwksUri = h('input', { id: 'issuer-jwks-uri', type: 'url', spellcheck: 'false' });
  const jwks = h('textarea', { id: 'issuer-jwks', rows: 4, spellcheck: 'false' });
  const audiences = h('input', { id: 'issuer-audiences', spellcheck: 'false' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'issuer-register' }, 'Register issuer');
  const form = h('form', { class: 'card', id: 'register-issuer' }, h('h2', {}, 'Register an issuer'),
    field('Issuer (its tokens\' iss value)', issuer),
    field('JWKS URI', jwksUri, 'https, or http on a loopback host. Or give the keys inline below, not both.'),
    field('Inline JWKS (JSON)', jwks, '{"keys": [public JWKs]}'),
    field('Accepted audiences (optional)', audiences, 'Space-separated absolute URIs; empty: this service\'s issuer URL.'),
    box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { issuer: issuer.value.trim() };
    if (jwksUri.value.trim()) body.jwks_uri = jwksUri.value.trim();
    if (jwks.value.trim()) {
      try {
        body.jwks = JSON.parse(jwks.value);
      } catch (error) {
        box.error(`The inline JWKS is not JSON: ${error.message}`);
        return;
      }
    }
    const list = audiences.value.split(/\s+/).filter(Boolean);
    if (list.length) body.audiences = list;
    const created = await busy(submit, box, () => api('POST', '/api/v1/oauth/issuer', body));
    if (created) {
      box.success(`Registered ${created.issuer} as ${created.id}.`);
      form.reset();
      setTimeout(refresh, 800);
    }
  });
  return form;
}
