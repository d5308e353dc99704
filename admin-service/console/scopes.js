// The scope registry: every scope in registry order, adding a custom scope, removing one
// no client holds (built-in scopes cannot be removed: the API says so).

import { api, holds, segment } from './api.js';
import { busy, confirmDialog, field, h, messageBox, replace, table } from './dom.js';

export async function renderScopes(main) {
  const box = messageBox();
  const listArea = h('div');
  replace(main, h('h1', {}, 'Scopes'), box.element, listArea, addForm(() => renderScopes(main)));
  let registry;
  try {
    registry = await api('GET', '/api/v1/oauth/scope');
  } catch (error) {
    box.error(error);
    return;
  }
  const canRemove = holds('scope:delete');
  replace(listArea, table('The scope registry', canRemove ? ['Scope', 'Remove'] : ['Scope'],
    registry.map((name) => {
      const cells = [h('code', {}, name)];
      if (canRemove) {
        const remove = h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${name}` }, 'Remove');
        remove.addEventListener('click', async () => {
          if (!(await confirmDialog(`Remove the scope ${name}?`,
            'Only a custom scope no client holds can be removed.', 'Remove scope'))) return;
          const done = await busy(remove, box, async () => { await api('DELETE', `/api/v1/oauth/scope/${segment(name)}`); return true; });
          if (done) renderScopes(main);
        });
        cells.push(remove);
      }
      return cells;
    })));
}

function addForm(refresh) {
  if (!holds('scope:create_or_update')) return h('p', { class: 'hint' }, 'Adding scopes needs the scope scope:create_or_update.');
  const name = h('input', { id: 'scope-name', required: true, maxlength: 128, spellcheck: 'false' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'scope-add' }, 'Add scope');
  const form = h('form', { class: 'card', id: 'add-scope' }, h('h2', {}, 'Add a custom scope'),
    field('Scope name', name, 'Printable ASCII without spaces, quotes or backslashes; at most 128 characters.'),
    box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const added = await busy(submit, box, () => api('POST', '/api/v1/oauth/scope', { name: name.value.trim() }));
    if (added) {
      box.success(added.created ? `Added ${added.name}.` : `${added.name} existed already.`);
      setTimeout(refresh, 800);
    }
  });
  return form;
}
