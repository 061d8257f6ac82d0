#!/usr/bin/env bash
# Prints the default state dir of an environment named NAME (e2e, demo): $REPO/.NAME, or
# /tmp/wpf-bridge-NAME when php-fpm's www-data or MariaDB's mysql could not reach the clone
# (a checkout in a private home directory). The one place that decides it.
#   tests/e2e/env/state-dir.sh e2e
set -euo pipefail
name=${1:?usage: state-dir.sh NAME}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
if [ "$(id -u)" -eq 0 ] && ! { runuser -u www-data -- test -x "$repo" && runuser -u mysql -- test -x "$repo"; } 2>/dev/null; then
  echo "/tmp/wpf-bridge-$name"
else
  echo "$repo/.$name"
fi
