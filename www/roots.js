// The list of root calls found in the file, each with a checkbox.
import { el } from './dom.js';
import { formatInt } from './format.js';

const time = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The file's roots that a request for `project` can see (the project's
 * own and those without one): the worker lists them for one project at a
 * time, `file.project`'s; none while another project's are on their way. */
export function rootsInProject(file, project) {
  return file && file.project === project ? file.roots : [];
}

/** The roots whose op name, id or trace id contains `query` (case
 * ignored, surrounding spaces ignored); all of them for an empty query. */
export function matchRoots(roots, query) {
  const q = query.trim().toLowerCase();
  if (q === '') return roots;
  return roots.filter((r) => [r.name, r.id, r.trace_id].some((s) => typeof s === 'string' && s.toLowerCase().includes(q)));
}

/** Fills `list` (a <ul>); checkboxes carry `data-root-id`, the app listens for changes. */
export function renderRoots(list, roots, { selected, query = '' }) {
  if (roots.length === 0) {
    const none = query ? `No root call matches “${query}”.` : 'No root calls (calls without a parent) in this file.';
    list.replaceChildren(el('li', { class: 'muted empty' }, none));
    return;
  }
  list.replaceChildren(
    ...roots.map((r) => {
      const box = el('input', { type: 'checkbox', 'data-root-id': r.id });
      box.checked = selected.has(r.id);
      const started = r.started_at && !Number.isNaN(Date.parse(r.started_at)) ? time.format(new Date(r.started_at)) : '';
      const size = r.calls;
      const meta = [started, `${formatInt(size)} call${size === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
      const name = el('span', { class: 'name-line' }, el('span', { class: 'name' }, r.name), el('code', {}, r.id.slice(0, 8)));
      const details = el('span', { class: 'meta muted' }, meta);
      if (!r.ended) details.append(' ', el('span', { class: 'badge' }, 'running'));
      const label = el('label', { title: `${r.name} ${r.id}` }, box, el('span', { class: 'root-text' }, name, details));
      return el('li', {}, label);
    }),
  );
}
