#!/usr/bin/env bash
# Runs the mariadb client against the private database of the e2e environment,
# as the WordPress user on database `wordpress` (or as the DB superuser with --admin).
#
#   tests/e2e/env/mysql.sh                                  # interactive
#   tests/e2e/env/mysql.sh -e 'SELECT user_login FROM wp_users'
#   tests/e2e/env/mysql.sh -N -B -e 'SELECT COUNT(*) FROM wp_users'
#   tests/e2e/env/mysql.sh --admin -e 'SHOW DATABASES'
set -euo pipefail
ENV_TAG=mysql
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cnf="$DB_DIR/client.cnf"
if [ "${1:-}" = --admin ]; then cnf="$DB_DIR/admin.cnf"; shift; fi
case "${1:-}" in -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -f "$cnf" ] || die "no database config in $DB_DIR: run tests/e2e/env/up.sh first"
[ -S "$DB_SOCKET" ] || die "MariaDB is not running ($DB_SOCKET missing): run tests/e2e/env/up.sh"
exec mariadb --defaults-file="$cnf" "$@"
