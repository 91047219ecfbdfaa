// The dashboard's entry: takes a #token= fragment into sessionStorage, asks the controller how it
// authenticates, and shows the page the path names (/ or /plans/NAMESPACE/NAME). The server
// answers both paths with this same page.
import { adoptFragmentToken, info } from './api.js';
import { byId } from './dom.js';
import { overviewPage } from './overview.js';
import { planPage } from './planPage.js';
import { renderTokenForm, showBanner } from './shell.js';

adoptFragmentToken();

function route(root: HTMLElement): () => void {
  const match = /^\/plans\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (match?.[1] && match[2]) {
    const namespace = decodeURIComponent(match[1]);
    const name = decodeURIComponent(match[2]);
    document.title = `${namespace}/${name} · trafficshift`;
    return planPage(root, namespace, name);
  }
  document.title = 'trafficshift';
  return overviewPage(root);
}

async function start(): Promise<void> {
  const root = byId('app');
  let stop = route(root);
  const about = await info();
  showBanner(about);
  // A new or forgotten token restarts the page, so its stream and reads use it.
  renderTokenForm(about, () => {
    stop();
    stop = route(root);
  });
}

void start();
