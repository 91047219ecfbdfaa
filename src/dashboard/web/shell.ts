// What every page shares: the auth=none banner, the token form, the live/reconnecting indicator.
import { forgetToken, setToken, token } from './api.js';
import { byId, clear, h } from './dom.js';
import type { Info } from './types.js';

export function showBanner(info: Info): void {
  const banner = byId('banner');
  clear(banner);
  if (info.authMode === 'none') {
    banner.append(h('p', { class: 'banner-none', role: 'alert' }, 'Authentication is off (--auth=none): anyone who reaches this port can steer every plan'));
  }
  byId('version').textContent = info.version !== '?' ? `controller ${info.version}` : '';
}

/** The token form in the header: paste once, kept in this tab's sessionStorage only. */
export function renderTokenForm(info: Info, onChange: () => void): void {
  const slot = byId('token');
  clear(slot);
  if (info.authMode === 'none') return;
  if (token()) {
    slot.append(
      h('span', { class: 'token-set' }, 'token set for this tab'),
      h('button', { type: 'button', class: 'link', id: 'forget-token', onclick: () => (forgetToken(), renderTokenForm(info, onChange), onChange()) }, 'forget'),
    );
    return;
  }
  const input = h('input', { type: 'password', id: 'token-input', name: 'token', autocomplete: 'off', placeholder: 'bearer token', 'aria-label': 'Bearer token', required: true });
  slot.append(
    h(
      'form',
      {
        id: 'token-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          if (!input.value.trim()) return;
          setToken(input.value);
          renderTokenForm(info, onChange);
          onChange();
        },
      },
      input,
      h('button', { type: 'submit' }, 'Use token'),
      h('span', { class: 'hint' }, ' from `trafficshift dashboard` or `kubectl create token NAME`'),
    ),
  );
}

export function setLiveState(text: string, kind: 'live' | 'retrying' | 'refused' | 'connecting'): void {
  const el = byId('live');
  el.textContent = text;
  el.className = `live ${kind}`;
}

/** A message above the page's content; errors stay until replaced. */
export function notice(text: string, kind: 'error' | 'info' = 'error'): void {
  const el = byId('notice');
  clear(el);
  if (text) el.append(h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
}
