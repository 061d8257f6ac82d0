#!/usr/bin/env bash
# The webhook benchmark (issue 10's evidence; README "Measured"). Brings up its own e2e site
# (tests/e2e/env/up.sh --fresh: WordPress 6.1, MariaDB, 4 php-fpm workers, nginx, the fake
# CRM, all on 127.0.0.1; opcache as Debian ships it), installs the floors' must-use plugin
# (benches/webhooks/wpf-bench-floor.php) and prints, in one run (benches/webhooks/bench.php,
# whose header says what each part measures): throughput (the floors, the accept path with
# php-fpm draining and with a resident worker, wrong-key requests), four storms of Mautic
# updates (php-fpm draining, then a resident worker; first with one php-fpm pool, then with the
# plugin's webhook pool and nginx routing from php/server/, up.sh's WPF_E2E_WEBHOOK_POOL) with
# the front page's answer time meanwhile against one idle figure, the queued answer time with the CRM slowed, and what one drain costs per
# applied contact (queries, commits, calls into PHP, CPU), and a profile of one webhook's
# accept path against the floors (time, SQL statements, PHP files, CPU per request).
# It prints figures and targets and does not fail on a missed target; it exits non-zero when
# the run broke (non-200 answers, lost or failed events, a queue that did not drain). Every
# load is bounded; the site is stopped at the end (WPF_BENCH_KEEP=1 keeps it).
#
#   scripts/bench-webhooks.sh
#   WPF_BENCH_STORM_CONTACTS=100 WPF_BENCH_STORM_VERSIONS=5 WPF_BENCH_SECONDS=3 scripts/bench-webhooks.sh
#   WPF_BENCH_PARTS=drain scripts/bench-webhooks.sh      # only the drain's cost
#   WPF_BENCH_PARTS=profile scripts/bench-webhooks.sh    # where one webhook's time goes
#
# Environment: WPF_BENCH_DIR (state dir, default .e2e-bench/; not WPF_E2E_DIR, so a shell
# that sourced the e2e env.sh never wipes the e2e site), WPF_E2E_PORT / WPF_E2E_CRM_PORT /
# WPF_E2E_DB_PORT (default 8093 / 8094 / 8095), WPF_E2E_FPM_WORKERS (4), WPF_BENCH_SECONDS (8
# per wrk run), WPF_BENCH_ROUNDS (2), WPF_BENCH_CONNECTIONS (16), WPF_BENCH_WRK_THREADS (2),
# WPF_BENCH_STORM_CONTACTS (1000), WPF_BENCH_STORM_VERSIONS (10), WPF_BENCH_CRM_MS (150),
# WPF_BENCH_LATENCY_REQUESTS (400), WPF_BENCH_LATENCY_CONTACTS (100),
# WPF_BENCH_LATENCY_CONNECTIONS (8), WPF_BENCH_DRAIN_CONTACTS (1000), WPF_BENCH_PROFILE_REQUESTS
# (100), WPF_BENCH_WEBHOOK_POOL (the storm's webhook pool workers; default the shipped pool
# file's pm.max_children), WPF_BENCH_PARTS (profile,throughput,storm,latency,drain), WPF_BENCH_DRAIN_TIMEOUT (600 s), WPF_BENCH_TIMEOUT
# (3600 s for the whole run), WPF_BENCH_KEEP.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[bench-webhooks] %s\n' "$*" >&2; }

for cmd in cargo php wrk timeout ss; do
  command -v "$cmd" >/dev/null || { say "'$cmd' not found: run scripts/install-deps.sh"; exit 1; }
done
export WPF_E2E_DIR="${WPF_BENCH_DIR:-$(tests/e2e/env/state-dir.sh e2e-bench)}"
export WPF_E2E_PORT="${WPF_E2E_PORT:-8093}"
export WPF_E2E_CRM_PORT="${WPF_E2E_CRM_PORT:-8094}"
export WPF_E2E_DB_PORT="${WPF_E2E_DB_PORT:-8095}"
export WPF_E2E_FPM_WORKERS="${WPF_E2E_FPM_WORKERS:-4}"
export WPF_E2E_PORT2=0 WPF_E2E_MULTISITE=0 WPF_E2E_WP_SRC=/usr/share/wordpress
export WPF_E2E_WEBHOOK_POOL=0   # the storm part switches the webhook pool on and off itself
unset WPF_E2E_URL

say "building the extension and the fake CRM"
cargo build --release --quiet -p wpf-bridge -p fake-crm

stop_env() {
  local status=$?
  if [ "${WPF_BENCH_KEEP:-0}" = 1 ]; then
    say "WPF_BENCH_KEEP=1: the bench site keeps running (WPF_E2E_DIR=$WPF_E2E_DIR tests/e2e/env/down.sh stops it)"
  else
    tests/e2e/env/down.sh || say "down.sh failed (status $?)"
  fi
  exit "$status"
}
trap stop_env EXIT
trap 'exit 130' INT TERM

say "starting a fresh bench site in $WPF_E2E_DIR on 127.0.0.1:$WPF_E2E_PORT ($WPF_E2E_FPM_WORKERS php-fpm workers)"
tests/e2e/env/up.sh --fresh
# opcache as a Debian site has it (php-opcache's defaults: validate_timestamps on, files looked
# at again after 2 s), not the e2e stack's revalidate_freq=0, which makes every request stat
# every PHP file so test edits show at once. The same for the floors and the webhooks.
printf '; written by scripts/bench-webhooks.sh: opcache as PHP and Debian ship it\nopcache.revalidate_freq = 2\n' \
  >"$WPF_E2E_DIR/php/conf.d/95-wpf-bench.ini"
tests/e2e/env/up.sh >/dev/null
# shellcheck disable=SC1091
. "$WPF_E2E_DIR/env.sh"
floor="$WPF_E2E_WP_DIR/wp-content/mu-plugins/wpf-bench-floor.php"
cp benches/webhooks/wpf-bench-floor.php "$floor.tmp" && chmod 644 "$floor.tmp" && mv -f "$floor.tmp" "$floor"

timeout --kill-after=30 "${WPF_BENCH_TIMEOUT:-3600}" php benches/webhooks/bench.php
