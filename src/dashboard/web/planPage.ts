// One plan: where it is, the buttons that steer it, its timeline chart, its events and its spec.
// The stream (scoped to the plan's namespace) updates the header and buttons as soon as the
// controller's cache changes, and the timeline is re-read then (at most once a second).
import { ACTION_WORDS, allowedActions, type Action } from './actions.js';
import { ApiError, call, planPath } from './api.js';
import { timelineChart } from './chart.js';
import { ago, clear, clock, h } from './dom.js';
import { notice, setLiveState } from './shell.js';
import { openStream } from './stream.js';
import type { PlanView, Timeline } from './types.js';

const SETTLED = ['Succeeded', 'RolledBack', 'Failed'];

/** A timeline from the plan view alone, for a controller without the timeline route: the last
 * events, the latest check values. */
function timelineFromView(plan: PlanView): Timeline {
  return {
    plan,
    specYaml: '',
    weights: plan.events.map((e) => ({ at: e.at, weight: e.weight, event: e.event, message: e.message })),
    checks: plan.checks.map((c) => ({ name: c.name, threshold: {}, points: [{ at: c.at, value: c.value, result: c.result }] })),
    ...(plan.rollback ? { rollback: plan.rollback } : {}),
    note: 'this controller serves no timeline: the chart shows the last events only',
  };
}

interface RollbackAnswer {
  plan: PlanView;
  rollback: { done: boolean; recoverySeconds?: number };
}

export function planPage(root: HTMLElement, namespace: string, name: string): () => void {
  const base = planPath(namespace, name);
  let plan: PlanView | undefined;
  let timeline: Timeline | undefined;
  let busy = false;

  const header = h('div', { class: 'plan-header' });
  const actions = h('div', { class: 'actions', id: 'actions' });
  const message = h('p', { class: 'action-message', id: 'action-message', role: 'status' });
  const summary = h('div', { class: 'summary' });
  const chart = h('figure', { class: 'chart', id: 'chart' });
  const events = h('tbody');
  const spec = h('pre', { class: 'spec', id: 'spec' });

  const reasonInput = h('input', { name: 'reason', id: 'rollback-reason', required: true, maxlength: 1000, placeholder: 'why (shown in the plan\'s status, events and notifications)', autocomplete: 'off' });
  const dialog = h(
    'dialog',
    { id: 'rollback-dialog' },
    h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          const reason = reasonInput.value.trim();
          if (!reason) return;
          dialog.close();
          void act('rollback', { reason });
        },
      },
      h('h2', {}, `Roll back ${namespace}/${name}?`),
      h('p', {}, 'Every target goes back to stable (weight 0) at once.'),
      h('label', {}, 'Reason ', reasonInput),
      h('div', { class: 'dialog-buttons' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), h('button', { type: 'submit', class: 'danger', id: 'rollback-confirm' }, 'Roll back')),
    ),
  );

  const say = (text: string, kind: 'ok' | 'error' | 'pending'): void => {
    message.textContent = text;
    message.className = `action-message ${kind}`;
  };

  async function act(action: Action, body?: { reason: string }): Promise<void> {
    busy = true;
    renderActions();
    const started = performance.now();
    say(`${ACTION_WORDS[action]}: sending…`, 'pending');
    try {
      if (action === 'rollback') {
        const answer = await call<RollbackAnswer>('POST', `${base}/rollback?wait=30s`, body);
        update(answer.plan);
        const took = answer.rollback.recoverySeconds !== undefined ? ` in ${answer.rollback.recoverySeconds.toFixed(2)} s` : '';
        say(answer.rollback.done ? `Rolled back${took}: every target holds 0.` : 'Rollback requested.', 'ok');
      } else {
        const answer = await call<{ plan: PlanView; changed: boolean }>('POST', `${base}/${action}`, body);
        update(answer.plan);
        say(`${ACTION_WORDS[action]}: ${answer.changed ? 'done' : 'nothing to change'} (${Math.round(performance.now() - started)} ms).`, 'ok');
      }
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, String(error), '');
      if (e.status === 403) say(`You may not ${ACTION_WORDS[action]} this plan: ${e.message}`, 'error');
      else if (e.status === 401) say(`Your token was refused (${e.message}): paste a valid one above.`, 'error');
      else say(`Could not ${ACTION_WORDS[action]} this plan: ${e.message}`, 'error');
    } finally {
      busy = false;
      renderActions();
    }
  }

  function renderActions(): void {
    clear(actions);
    if (!plan) return;
    for (const action of allowedActions(plan)) {
      const label = action === 'rollback' ? 'Roll back…' : ACTION_WORDS[action][0]!.toUpperCase() + ACTION_WORDS[action].slice(1);
      actions.append(
        h('button', {
          type: 'button',
          class: action === 'rollback' ? 'danger' : '',
          'data-action': action,
          disabled: busy,
          onclick: () => {
            if (action === 'rollback') {
              reasonInput.value = '';
              dialog.showModal();
              reasonInput.focus();
            } else void act(action);
          },
        }, label),
      );
    }
  }

  function renderHeader(): void {
    clear(header);
    clear(summary);
    if (!plan) return;
    const pending = Object.entries(plan.pendingRequests).map(([kind]) => kind);
    header.append(
      h('h1', {}, h('span', { class: 'muted' }, `${plan.namespace}/`), plan.name, ' ', h('span', { class: `phase phase-${plan.phase}`, id: 'phase' }, plan.phase)),
      h(
        'p',
        { class: 'step' },
        plan.step.label,
        plan.paused ? ' · paused' : '',
        pending.length ? ` · pending: ${pending.join(', ')}` : '',
        plan.lastRound ? ` · last round ${plan.lastRound.verdict} ${ago(plan.lastRound.at)}` : '',
      ),
    );
    if (plan.specError) header.append(h('p', { class: 'notice error' }, `The spec does not parse, so the plan stands still: ${plan.specError}`));
    const targets = h('ul', { class: 'targets', id: 'targets' });
    for (const t of plan.targets) {
      targets.append(h('li', { 'data-weight': t.weight ?? '' }, h('strong', {}, t.weight === null ? '?' : `${t.weight}%`), ' ', t.target, t.problem ? h('span', { class: 'problem' }, ` — ${t.problem}`) : ''));
    }
    const checks = h('ul', { class: 'checks' });
    for (const c of plan.checks) {
      checks.append(h('li', { title: c.message ?? '' }, h('span', { class: `result result-${c.result}` }, c.result), ` ${c.name} = ${c.value === null ? 'no value' : Number(c.value.toPrecision(4))} (${c.threshold})`, c.consecutiveFailures ? ` · ${c.consecutiveFailures} failing in a row` : ''));
    }
    summary.append(h('section', {}, h('h2', {}, 'Targets'), targets), h('section', {}, h('h2', {}, 'Checks'), plan.checks.length ? checks : h('p', { class: 'muted' }, 'no check has run yet')));
    if (plan.rollback) {
      const rb = plan.rollback;
      summary.append(
        h('section', { class: 'rollback-summary' }, h('h2', {}, 'Rollback'), h('p', {}, `${rb.reason} — triggered ${clock(rb.triggeredAt)}`, rb.completedAt ? `, every target at 0 ${clock(rb.completedAt)}` : ', under way', rb.recoverySeconds !== undefined ? ` (recovery ${rb.recoverySeconds.toFixed(2)} s${timeline?.rollback?.rtoSeconds !== undefined ? `, RTO ${timeline.rollback.rtoSeconds} s` : ''})` : '')),
      );
    }
  }

  function renderTimeline(): void {
    clear(chart);
    clear(events);
    if (!timeline || !plan) return;
    chart.append(timelineChart({ ...timeline, plan }, Date.now(), SETTLED.includes(plan.phase)));
    if (timeline.note) chart.append(h('figcaption', { class: 'muted' }, timeline.note));
    const rows = timeline.weights.length ? timeline.weights : plan.events;
    for (const e of [...rows].reverse()) events.append(h('tr', {}, h('td', {}, clock(e.at)), h('td', {}, e.event), h('td', {}, `${e.weight}%`), h('td', {}, e.message)));
    spec.textContent = timeline.specYaml || '(this controller does not serve the spec)';
  }

  function update(view: PlanView): void {
    plan = view;
    renderHeader();
    renderActions();
    if (timeline) renderTimeline();
  }

  let loading = false;
  let again = false;
  async function load(): Promise<void> {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      try {
        timeline = await call<Timeline>('GET', `${base}/timeline`);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
        // An unknown route and an unknown plan both answer 404: the detail route tells them apart.
        timeline = timelineFromView(await call<PlanView>('GET', base));
      }
      notice('');
      update(timeline.plan);
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, String(error), '');
      if (e.status === 403) notice(`You may not read this plan: ${e.message}`);
      else if (e.status === 401) notice(`Your token was refused (${e.message}): paste a valid one above.`);
      else notice(e.message);
    } finally {
      loading = false;
      // A second change while the first read ran: read once more, a second later at most.
      if (again) {
        again = false;
        setTimeout(() => void load(), 1000);
      }
    }
  }
  let pendingLoad: ReturnType<typeof setTimeout> | undefined;
  const reloadSoon = (): void => {
    pendingLoad ??= setTimeout(() => {
      pendingLoad = undefined;
      void load();
    }, 250);
  };

  clear(root);
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, '← all plans')),
    header,
    actions,
    message,
    summary,
    h('h2', {}, 'Timeline'),
    chart,
    h('h2', {}, 'Events'),
    h('table', { class: 'events' }, h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Weight', 'Message'].map((t) => h('th', {}, t)))), events),
    h('h2', {}, 'Spec'),
    spec,
    dialog,
  );
  void load();

  setLiveState('connecting…', 'connecting');
  const mine = (p: { namespace: string; name: string }): boolean => p.namespace === namespace && p.name === name;
  const stop = openStream(namespace, {
    snapshot(list) {
      const view = list.find(mine);
      if (view) update(view);
      reloadSoon();
    },
    plan(view) {
      if (!mine(view)) return;
      update(view);
      reloadSoon();
    },
    deleted(ref) {
      if (mine(ref)) notice('This plan was deleted.');
    },
    state(state) {
      if (state.kind === 'live') setLiveState('live', 'live');
      else if (state.kind === 'retrying') setLiveState(`reconnecting in ${Math.round(state.inMs / 1000)} s (${state.why})`, 'retrying');
      else setLiveState(`not live: ${state.error.message}`, 'refused');
    },
  });
  return () => {
    stop();
    if (pendingLoad) clearTimeout(pendingLoad);
  };
}
