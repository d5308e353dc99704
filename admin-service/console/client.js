// One client: its details, its scopes (an escalation is refused by the API and shown as
// it words it), secret rotation with a grace period, workload identities, revoking every
// token, deletion. Also the scope picker the creation form shares.

import { api, holds, segment } from './api.js';
import { busy, confirmDialog, field, h, messageBox, replace, secretDialog } from './dom.js';

// Checkboxes for the registry's scopes (needs scope:read), else a text field.
// { element, value() -> [scope names] }
export async function scopePicker(legend, selected) {
  let registry = null;
  try {
    registry = await api('GET', '/api/v1/oauth/scope');
  } catch (error) {
    if (error.status === 401) throw error;
  }
  if (!registry) {
    const input = h('input', { class: 'scope-text', spellcheck: 'false' });
    input.value = selected.join(' ');
    return {
      element: field(`${legend} (space-separated)`, input, 'The scope registry is not shown: reading it needs scope:read.'),
      value: () => input.value.split(/\s+/).filter(Boolean),
    };
  }
  const names = [...registry, ...selected.filter((name) => !registry.includes(name))];
  const boxes = names.map((name) => h('input', { type: 'checkbox', name: 'scope', value: name,
    checked: selected.includes(name) }));
  const element = h('fieldset', { class: 'scopes' }, h('legend', {}, legend),
    boxes.map((box, i) => {
      box.id = `scope-${Math.random().toString(36).slice(2)}-${i}`;
      return h('div', { class: 'check' }, box, h('label', { for: box.id }, box.value));
    }));
  return { element, value: () => boxes.filter((box) => box.checked).map((box) => box.value) };
}

export async function renderClient(main, id) {
  const path = `/api/v1/oauth/client/${segment(id)}`;
  const box = messageBox();
  replace(main, h('h1', {}, 'Client ', h('code', {}, id)), h('p', {}, h('a', { href: '#/clients' }, 'All clients')), box.element);
  let client;
  try {
    client = await api('GET', path);
  } catch (error) {
    box.error(error);
    return;
  }
  const sections = [details(client)];
  if (client.root) {
    sections.push(h('p', { class: 'notice' },
      'The root client is configured in the environment: it cannot be changed or deleted here.'));
  } else {
    sections.push(await scopesForm(path, client), rotateForm(path, client), identitiesForm(path, client),
      revokeAll(path), deleteClient(path, client));
  }
  main.append(...sections);
}

function details(client) {
  const rows = [
    ['Client id', h('code', { id: 'client-id' }, client.client_id)],
    ['Name', client.name || '(none)'],
    ['Description', client.description || '(none)'],
    ['Scopes', h('span', { id: 'client-scopes' }, client.scopes.length ? client.scopes.join(' ') : '(none)')],
  ];
  if (!client.root) {
    rows.push(
      ['Has a secret', client.has_secret ? 'yes' : 'no (secret-less)'],
      ['Audiences', client.audiences.length ? client.audiences.join(' ') : '(default only)'],
      ['Keys', client.jwks_uri || (client.keys.length ? client.keys.map((key) => key.kid).join(' ') : '(none)')],
      ['Created', client.created_at], ['Updated', client.updated_at]);
  }
  return h('section', { 'aria-labelledby': 'details-heading' }, h('h2', { id: 'details-heading' }, 'Details'),
    h('dl', {}, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])));
}

function section(id, title, ...content) {
  return h('section', { 'aria-labelledby': `${id}-heading`, class: 'card' }, h('h2', { id: `${id}-heading` }, title), content);
}

async function scopesForm(path, client) {
  const picker = await scopePicker('Scopes', client.scopes);
  const box = messageBox();
  const save = h('button', { type: 'submit', id: 'scopes-save' }, 'Save scopes');
  const form = h('form', { id: 'scopes-form' }, picker.element,
    h('p', { class: 'hint' }, 'Removing a scope revokes the client\'s older tokens. You can grant only scopes you hold.'),
    box.element, h('div', { class: 'buttons' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = picker.value();
    const saved = await busy(save, box, () => api('PUT', `${path}/scope`, { scopes }));
    if (saved !== undefined) {
      const now = Array.isArray(saved) ? saved : scopes;
      document.getElementById('client-scopes').textContent = now.length ? now.join(' ') : '(none)';
      box.success('Scopes saved.');
    }
  });
  return section('scopes', 'Scopes', form);
}

function rotateForm(path, client) {
  const grace = h('input', { id: 'rotate-grace', type: 'number', min: 0, max: 604800, value: 0, required: true });
  const box = messageBox();
  const rotate = h('button', { type: 'submit', id: 'rotate-submit' }, 'Rotate secret');
  const form = h('form', { id: 'rotate-form' },
    field('Grace period for the old secret (seconds)', grace, '0 to 604800 (7 days); 0: the old secret stops working at once.'),
    h('p', { class: 'hint' }, 'Rotating hands over the client\'s power: it needs every scope the client holds.'),
    box.element, h('div', { class: 'buttons' }, rotate));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { grace_period_seconds: Number(grace.value) };
    const rotated = await busy(rotate, box, () => api('POST', `${path}/secret`, body));
    if (!rotated) return;
    const note = rotated.previous_secret_expires_at
      ? `The previous secret works until ${rotated.previous_secret_expires_at}.`
      : 'The previous secret no longer works.';
    box.success(`Secret rotated. ${note}`);
    secretDialog('New client secret', client.client_id, rotated.client_secret, note);
  });
  return section('rotate', 'Secret', form);
}

function identitiesForm(path, client) {
  const lines = h('textarea', { id: 'identities', rows: 4, spellcheck: 'false' });
  lines.value = client.identities.map((identity) => `${identity.issuer} ${identity.subject}`).join('\n');
  const box = messageBox();
  const save = h('button', { type: 'submit', id: 'identities-save' }, 'Save identities');
  const form = h('form', { id: 'identities-form' },
    field('Workload identities', lines,
      'One per line: the issuer\'s iss value, a space, the subject (a trailing * matches a prefix). The issuer must be registered first. Empty: none.'),
    box.element, h('div', { class: 'buttons' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const identities = lines.value.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
      const space = line.search(/\s/);
      return space < 0 ? { issuer: line, subject: '' } : { issuer: line.slice(0, space), subject: line.slice(space).trim() };
    });
    const saved = await busy(save, box, () => api('PUT', `${path}/identities`, identities));
    if (saved !== undefined) box.success('Identities saved.');
  });
  return section('identities', 'Workload identities', form);
}

function revokeAll(path) {
  const box = messageBox();
  const button = h('button', { type: 'button', id: 'revoke-all', class: 'danger' }, 'Revoke every token of this client');
  button.addEventListener('click', async () => {
    const sure = await confirmDialog('Revoke every token?',
      'Every token issued to this client until now is refused from now on, by every verifier. The client can get new tokens.',
      'Revoke tokens');
    if (!sure) return;
    const done = await busy(button, box, async () => { await api('POST', `${path}/revoke`); return true; });
    if (done) box.success('Every token of this client issued until now is revoked.');
  });
  return section('tokens', 'Tokens', h('p', {}, button), box.element);
}

function deleteClient(path, client) {
  const box = messageBox();
  const button = h('button', { type: 'button', id: 'delete-client', class: 'danger' }, 'Delete this client');
  button.addEventListener('click', async () => {
    const sure = await confirmDialog(`Delete ${client.client_id}?`,
      'The client and its credentials are removed and every token it has is refused. This cannot be undone.',
      'Delete client');
    if (!sure) return;
    const done = await busy(button, box, async () => { await api('DELETE', path); return true; });
    if (done) window.location.hash = '#/clients';
  });
  return section('delete', 'Delete', h('p', {}, button), box.element);
}
