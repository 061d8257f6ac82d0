#!/usr/bin/env bash
# Stops the e2e environment started by up.sh: only the processes whose pid files are in
# $WPF_E2E_DIR/run and whose /proc/PID/exe and command line prove they are ours.
# Nothing else is ever signalled. The state dir is kept (up.sh --fresh wipes it).
#
#   tests/e2e/env/down.sh
set -euo pipefail
ENV_TAG="${ENV_TAG:-down}"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOCKED=0
for arg in "$@"; do
  case "$arg" in
    --locked) LOCKED=1 ;;   # internal: the caller (up.sh --fresh) holds the lock
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg'" ;;
  esac
done

if [ ! -d "$RUN" ]; then
  say "nothing to stop: no $RUN"
  exit 0
fi
[ "$LOCKED" = 1 ] || take_lock

stop_service fake-crm "$FAKE_CRM_EXE" 10
stop_service nginx "$NGINX_EXE" 15
stop_service php-fpm "$PHP_FPM_EXE" 15
stop_service php-fpm2 "$PHP_FPM_EXE" 15
stop_service mariadb "$MARIADBD_EXE" 60
rm -f "$FPM_SOCKET" "$FPM2_SOCKET"
say "environment in $STATE is stopped"
