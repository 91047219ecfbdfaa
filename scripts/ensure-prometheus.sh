#!/usr/bin/env bash
# Installs Debian's prometheus (and alertmanager) when missing, so the metric-gate tests run for
# real, lua5.1 for the Argo CD health check test (test/gitops/argocd.test.ts), and chromium for the
# dashboard's browser tests (test/dashboard/browser.test.ts, driven by playwright-core). Needs root and
# apt; elsewhere it says why it could not and the tests that need the binaries skip loudly.
# Debian's packages start nothing here: the tests start the binaries.
set -uo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v lua5.1 >/dev/null 2>&1 || need+=(lua5.1)
# With a font, so the pages lay out and the screenshots read as they would for a person.
[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-prometheus: ${need[*]} missing and cannot install (needs root and apt-get); tests that need them will skip" >&2
  exit 0
fi
echo "ensure-prometheus: installing ${need[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the packages' services from starting during install (there is no init here anyway).
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
fi
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || echo "ensure-prometheus: apt-get install ${need[*]} failed; tests that need them will skip" >&2
[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
