// Revocations: one token (the token itself, or its jti and client), or every token of a
// client. Every verifier refuses them from then on.

import { api, segment } from './api.js';
import { busy, confirmDialog, field, h, messageBox, replace } from './dom.js';

export function renderRevocations(main) {
  replace(main, h('h1', {}, 'Revocations'),
    h('p', {}, 'Revoking needs the scope token:revoke; each revoked token counts against your client\'s revocation limit.'),
    byToken(), byId(), allOfClient());
}

function byToken() {
  const token = h('textarea', { id: 'revoke-token', rows: 3, required: true, spellcheck: 'false', autocomplete: 'off' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'revoke-token-submit' }, 'Revoke this token');
  const form = h('form', { class: 'card', id: 'revoke-by-token' }, h('h2', {}, 'One token'),
    field('Access token', token), box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = await busy(submit, box, async () => {
      await api('POST', '/api/v1/oauth/revocation', { token: token.value.trim() });
      return true;
    });
    if (done) {
      token.value = '';
      box.success('The token is revoked.');
    }
  });
  return form;
}

function byId() {
  const jti = h('input', { id: 'revoke-jti', required: true, spellcheck: 'false' });
  const client = h('input', { id: 'revoke-jti-client', required: true, spellcheck: 'false' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'revoke-jti-submit' }, 'Revoke by id');
  const form = h('form', { class: 'card', id: 'revoke-by-id' }, h('h2', {}, 'One token, by its id'),
    field('Token id (jti)', jti), field('Its client id', client),
    box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = await busy(submit, box, async () => {
      await api('POST', '/api/v1/oauth/revocation', { jti: jti.value.trim(), client_id: client.value.trim() });
      return true;
    });
    if (done) box.success(`The token ${jti.value.trim()} is revoked.`);
  });
  return form;
}

function allOfClient() {
  const client = h('input', { id: 'revoke-client-id', required: true, spellcheck: 'false' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'revoke-client-submit', class: 'danger' }, 'Revoke every token');
  const form = h('form', { class: 'card', id: 'revoke-client' }, h('h2', {}, 'Every token of a client'),
    field('Client id', client), box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = client.value.trim();
    if (!(await confirmDialog(`Revoke every token of ${id}?`,
      'Every token issued to this client until now is refused from now on. The client can get new tokens.',
      'Revoke tokens'))) return;
    const done = await busy(submit, box, async () => {
      await api('POST', `/api/v1/oauth/client/${segment(id)}/revoke`);
      return true;
    });
    if (done) box.success(`Every token of ${id} issued until now is revoked.`);
  });
  return form;
}
