#!/usr/bin/env bash
# Runs the end-to-end suite (tests/e2e/, PHPUnit) against a fresh environment:
#   1. cargo build --release -p wpf-bridge -p fake-crm
#   2. tests/e2e/env/up.sh --fresh   (MariaDB, WordPress + plugin, php-fpm + extension, nginx,
#                                     fake CRM, all on 127.0.0.1, state in $WPF_E2E_DIR)
#   3. phpunit -c tests/e2e/phpunit.xml [extra phpunit arguments]
#   4. tests/e2e/env/down.sh, always (trap), unless WPF_E2E_KEEP=1
# Exits with PHPUnit's status (non-zero on any failure or when the environment is not
# healthy). Screenshots of the admin pages stay in $WPF_E2E_DIR/screenshots (default
# .e2e/screenshots, git-ignored) after the environment is stopped.
#
#   scripts/test-e2e.sh                          # everything, on WordPress 6.1 (Debian 12)
#   scripts/test-e2e.sh --filter MauticAddTest   # one class (arguments go to phpunit)
#   WPF_E2E_WP=6.8 scripts/test-e2e.sh           # everything, on WordPress 6.8 (Debian 13's
#                                                #   package, scripts/wordpress-6.8.sh)
#   WPF_E2E_MULTISITE=1 WPF_E2E_WP=6.8 scripts/test-e2e.sh   # a subdirectory network with
#                                                #   /site2/: tests/e2e/phpunit-multisite.xml
#   WPF_E2E_KEEP=1 scripts/test-e2e.sh           # leave the site running to poke at it
#   WPF_E2E_FROM_DIST=1 scripts/test-e2e.sh      # the site built from the release artifacts
#                                                #   (scripts/package.sh): the plugin unzipped
#                                                #   from dist/wpf-bridge-<version>.zip, the
#                                                #   extension from the php8.2 .deb's files
#
# Environment: WPF_E2E_DIR, WPF_E2E_PORT, WPF_E2E_CRM_PORT, WPF_E2E_DB_PORT (see
# tests/e2e/env/README.md), WPF_E2E_WP (6.1 or 6.8), WPF_E2E_MULTISITE (0 or 1), WPF_E2E_KEEP,
# WPF_E2E_SUITE_TIMEOUT (seconds, default 900), WPF_E2E_FROM_DIST (0 or 1), WPF_DIST_DIR. A 6.8 or multisite run uses its own state
# dir (the default one with -wp68 / -multisite appended), so its screenshots are kept apart.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
SUITE_TIMEOUT="${WPF_E2E_SUITE_TIMEOUT:-900}"
WP="${WPF_E2E_WP:-6.1}"
export WPF_E2E_MULTISITE="${WPF_E2E_MULTISITE:-0}"
suffix=""
case "$WP" in
  6.1) export WPF_E2E_WP_SRC=/usr/share/wordpress ;;
  6.8) suffix="-wp68" ;;
  *) echo "[test-e2e] WPF_E2E_WP must be 6.1 or 6.8 (got '$WP')" >&2; exit 2 ;;
esac
config=tests/e2e/phpunit.xml
if [ "$WPF_E2E_MULTISITE" = 1 ]; then
  config=tests/e2e/phpunit-multisite.xml
  suffix="$suffix-multisite"
fi
export WPF_E2E_DIR="${WPF_E2E_DIR:-$(tests/e2e/env/state-dir.sh e2e)}$suffix"

say() { printf '[test-e2e] %s\n' "$*" >&2; }
started=$EPOCHREALTIME
elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

for cmd in cargo php phpunit chromedriver chromium timeout; do
  command -v "$cmd" >/dev/null || { say "'$cmd' not found: run scripts/install-deps.sh"; exit 1; }
done

if [ "$WP" = 6.8 ]; then
  say "WordPress 6.8: Debian 13's package (scripts/wordpress-6.8.sh)"
  WPF_E2E_WP_SRC="$(scripts/wordpress-6.8.sh)"
  export WPF_E2E_WP_SRC
fi

if [ "${WPF_E2E_FROM_DIST:-0}" = 1 ]; then
  # What a site owner installs: the .deb's module and the zip's plugin, unpacked next to the
  # state dir (never target/ nor php/).
  dist="${WPF_DIST_DIR:-$REPO/dist}"
  debs=("$dist"/php8.2-wpf-bridge_*_amd64.deb) zips=("$dist"/wpf-bridge-*.zip)
  [ -f "${debs[0]}" ] && [ -f "${zips[0]}" ] || { say "no package or zip in $dist: run scripts/package.sh"; exit 1; }
  artifacts="$WPF_E2E_DIR.artifacts"
  rm -rf "$artifacts" && mkdir -p "$artifacts/deb" "$artifacts/zip"
  dpkg-deb -x "${debs[0]}" "$artifacts/deb"
  unzip -q "${zips[0]}" -d "$artifacts/zip"
  chmod -R a+rX "$artifacts"
  so=("$artifacts"/deb/usr/lib/php/*/wpf_bridge.so)
  export WPF_BRIDGE_SO="${so[0]}" WPF_E2E_PLUGIN_SRC="$artifacts/zip/wpf-bridge"
  say "from the artifacts: $(basename "${debs[0]}") ($WPF_BRIDGE_SO), $(basename "${zips[0]}") ($WPF_E2E_PLUGIN_SRC)"
  say "building the fake CRM"
  cargo build --release --quiet -p fake-crm
else
  say "building the extension and the fake CRM"
  cargo build --release --quiet -p wpf-bridge -p fake-crm
fi

stop_env() {
  local status=$?
  if [ "${WPF_E2E_KEEP:-0}" = 1 ]; then
    say "WPF_E2E_KEEP=1: the environment keeps running (tests/e2e/env/down.sh stops it)"
  else
    tests/e2e/env/down.sh || say "down.sh failed (status $?)"
  fi
  if [ -d "$WPF_E2E_DIR/screenshots" ]; then
    say "screenshots in $WPF_E2E_DIR/screenshots:"
    ls -1 "$WPF_E2E_DIR/screenshots"/*.png 2>/dev/null | sed 's/^/  /' >&2 || true
  fi
  say "finished in $(elapsed)s with status $status"
  exit "$status"
}
trap stop_env EXIT
trap 'exit 130' INT TERM

say "starting a fresh environment in $WPF_E2E_DIR (WordPress $WP$([ "$WPF_E2E_MULTISITE" = 1 ] && echo ', multisite'))"
# Exit 3 means "up but degraded" (extension or plugin broken): the suite cannot pass then.
tests/e2e/env/up.sh --fresh

# shellcheck disable=SC1091
. "$WPF_E2E_DIR/env.sh"
say "running the e2e suite against $WPF_E2E_URL (fake CRM $WPF_E2E_CRM_URL)"
timeout --kill-after=30 "$SUITE_TIMEOUT" phpunit -c "$config" "$@"
