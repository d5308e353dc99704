// Building the page without markup: every value becomes a text node or an attribute,
// never HTML, since client names, scope names and audit details come from other people.

let nextId = 0;

// h('button', {type: 'button', onclick: f}, 'Save'): an element with attributes,
// listeners (on...) and children (nodes, or strings as text).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

// Replaces every child of element.
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

// A labelled form field: the input (or select, textarea) gets an id its label points at.
export function field(label, control, hint) {
  if (!control.id) control.id = `f${nextId++}`;
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', { id: hintId, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

// A message area read out by screen readers when it changes. show(error or text), clear().
export function messageBox() {
  const box = h('p', { class: 'message', role: 'alert', hidden: true });
  return {
    element: box,
    clear() {
      box.hidden = true;
      box.className = 'message';
      box.textContent = '';
    },
    // An error of the API is shown as it words it: "code: description".
    error(error) {
      box.hidden = false;
      box.className = 'message error';
      box.textContent = describe(error);
    },
    success(text) {
      box.hidden = false;
      box.className = 'message success';
      box.textContent = text;
    },
  };
}

export function describe(error) {
  if (error && error.code) return `${error.code}: ${error.description}`;
  return String(error && error.message ? error.message : error);
}

// A native modal dialog: focus moves into it and Escape closes it.
function modal(title, body, buttons) {
  const titleId = `d${nextId++}`;
  const dialog = h('dialog', { 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), body, h('div', { class: 'buttons' }, buttons));
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
  return dialog;
}

// Asks before something that cannot be undone; resolves to true when confirmed.
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    let confirmed = false;
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const confirm = h('button', { type: 'button', class: 'danger' }, confirmLabel);
    const dialog = modal(title, h('p', {}, text), [cancel, confirm]);
    dialog.addEventListener('close', () => resolve(confirmed));
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => { confirmed = true; dialog.close(); });
    cancel.focus();
  });
}

// Shows a secret once, with a copy button; closing the dialog removes it from the page.
export function secretDialog(title, clientId, secret, note) {
  const value = h('input', { type: 'text', readonly: true, id: 'shown-secret', class: 'secret',
    autocomplete: 'off', spellcheck: 'false' });
  value.value = secret;
  const copied = h('span', { role: 'status', class: 'hint' });
  const copy = h('button', { type: 'button', id: 'copy-secret' }, 'Copy secret');
  const done = h('button', { type: 'button', class: 'secondary', id: 'close-secret' }, 'I have stored it');
  const dialog = modal(title, [
    h('p', {}, 'Client id: ', h('code', { id: 'shown-client-id' }, clientId)),
    field('Client secret', value),
    h('p', { class: 'warning' },
      'This secret is shown this once: it is not stored in a readable form and cannot be shown again.'),
    note ? h('p', {}, note) : null,
    copied,
  ], [copy, done]);
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = 'Copied.';
    } catch {
      value.select();
      copied.textContent = 'Copying is not allowed here: the secret is selected, copy it with Ctrl+C.';
    }
  });
  done.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { value.value = ''; });
  value.focus();
  value.select();
}

// A table with a header row; rows are arrays of cells (nodes or text).
export function table(caption, headers, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))));
}

// Runs an async action from a form or button, disabling it meanwhile; errors go to box.
export async function busy(control, box, action) {
  control.disabled = true;
  if (box) box.clear();
  try {
    return await action();
  } catch (error) {
    if (box) box.error(error);
    return undefined;
  } finally {
    control.disabled = false;
  }
}
