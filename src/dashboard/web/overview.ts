// The overview: every plan the token may list, one row each, kept current by the stream.
import { worstCheck } from './actions.js';
import { clear, h } from './dom.js';
import { notice, setLiveState } from './shell.js';
import { openStream } from './stream.js';
import type { Phase, PlanView } from './types.js';

const PHASES: readonly Phase[] = ['Pending', 'Progressing', 'Paused', 'Holding', 'WaitingForPromotion', 'RollingBack', 'RolledBack', 'Succeeded', 'Failed'];

const key = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

function weightCell(plan: PlanView): HTMLElement {
  const cell = h('td', { class: 'weights' });
  for (const t of plan.targets) {
    const bar = h('span', { class: 'bar' }, h('span', { class: 'fill' }));
    (bar.firstChild as HTMLElement).style.width = `${t.weight ?? 0}%`;
    cell.append(h('div', { class: 'target', title: t.problem ?? t.target }, bar, h('span', { class: 'pct' }, t.weight === null ? '?' : `${t.weight}%`), ' ', h('span', { class: 'target-name' }, t.target)));
  }
  if (plan.targets.length === 0) cell.append(`${plan.canaryWeight}%`);
  return cell;
}

function checkCell(plan: PlanView): HTMLElement {
  const worst = worstCheck(plan.checks);
  if (!worst) return h('td', { class: 'muted' }, '—');
  return h('td', { title: worst.message ?? '' }, h('span', { class: `result result-${worst.result}` }, worst.result), ' ', worst.name, worst.value !== null ? ` = ${Number(worst.value.toPrecision(4))}` : '', ` (${worst.threshold})`);
}

function row(plan: PlanView): HTMLTableRowElement {
  const href = `/plans/${encodeURIComponent(plan.namespace)}/${encodeURIComponent(plan.name)}`;
  return h(
    'tr',
    { 'data-plan': key(plan), 'data-phase': plan.phase },
    h('td', {}, h('a', { href }, plan.name)),
    h('td', {}, plan.namespace),
    h('td', {}, h('span', { class: `phase phase-${plan.phase}` }, plan.phase), plan.paused && plan.phase !== 'Paused' ? ' (paused)' : ''),
    h('td', {}, plan.step.label),
    weightCell(plan),
    checkCell(plan),
  );
}

export function overviewPage(root: HTMLElement): () => void {
  const params = new URLSearchParams(location.search);
  const scope = params.get('namespace') ?? '';
  const plans = new Map<string, PlanView>();
  let phaseFilter = params.get('phase') ?? '';
  let nsFilter = '';

  const nsSelect = h('select', { id: 'filter-namespace', 'aria-label': 'Namespace' });
  const phaseSelect = h('select', { id: 'filter-phase', 'aria-label': 'Phase' }, h('option', { value: '' }, 'every phase'), ...PHASES.map((p) => h('option', { value: p }, p)));
  phaseSelect.value = phaseFilter;
  const body = h('tbody');
  const count = h('span', { class: 'muted', id: 'plan-count' });
  const scopeInput = h('input', { name: 'namespace', value: scope, placeholder: 'all namespaces', 'aria-label': 'Namespace to list' });

  let listed = '';
  const render = (): void => {
    const namespaces = [...new Set([...plans.values()].map((p) => p.namespace))].sort();
    // Rebuilt only when the namespaces change, so an open drop-down survives a plan's update.
    if (namespaces.join('\n') !== listed) {
      listed = namespaces.join('\n');
      clear(nsSelect);
      nsSelect.append(h('option', { value: '' }, 'every namespace'), ...namespaces.map((n) => h('option', { value: n }, n)));
      nsSelect.value = namespaces.includes(nsFilter) ? nsFilter : '';
    }
    const shown = [...plans.values()]
      .filter((p) => (!nsFilter || p.namespace === nsFilter) && (!phaseFilter || p.phase === phaseFilter))
      .sort((a, b) => key(a).localeCompare(key(b)));
    clear(body);
    body.append(...shown.map(row));
    if (shown.length === 0) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, plans.size ? 'No plan matches the filters.' : 'No plans (yet).')));
    count.textContent = `${shown.length} of ${plans.size} plan${plans.size === 1 ? '' : 's'}`;
  };
  nsSelect.addEventListener('change', () => ((nsFilter = nsSelect.value), render()));
  phaseSelect.addEventListener('change', () => ((phaseFilter = phaseSelect.value), render()));

  clear(root);
  root.append(
    h('h1', {}, 'Plans'),
    h(
      'div',
      { class: 'filters' },
      h('label', {}, 'Namespace ', nsSelect),
      h('label', {}, 'Phase ', phaseSelect),
      count,
      // A token that may list plans in one namespace only is refused the cluster-wide stream: it
      // names its namespace here.
      h('form', { class: 'scope', method: 'get', action: '/' }, h('label', {}, 'List ', scopeInput), h('button', { type: 'submit' }, 'Go')),
    ),
    h('table', { class: 'plans' }, h('thead', {}, h('tr', {}, ...['Plan', 'Namespace', 'Phase', 'Step', 'Weight per target', 'Worst check'].map((t) => h('th', {}, t)))), body),
  );
  render();

  setLiveState('connecting…', 'connecting');
  return openStream(scope || undefined, {
    snapshot(list) {
      plans.clear();
      for (const p of list) plans.set(key(p), p);
      notice('');
      render();
    },
    plan(p) {
      plans.set(key(p), p);
      render();
    },
    deleted(ref) {
      plans.delete(key(ref));
      render();
    },
    state(state) {
      if (state.kind === 'live') setLiveState('live', 'live');
      else if (state.kind === 'retrying') setLiveState(`reconnecting in ${Math.round(state.inMs / 1000)} s (${state.why})`, 'retrying');
      else {
        setLiveState('not connected', 'refused');
        if (state.error.status === 401) notice(`The controller needs your bearer token (${state.error.message}): paste one above, or open the link \`trafficshift dashboard\` prints.`);
        else notice(`You may not list plans${scope ? ` in namespace ${scope}` : ' across the cluster'}: ${state.error.message}.${scope ? '' : ' Name a namespace you may list in the List box.'}`);
      }
    },
  });
}
