#!/usr/bin/env bash
# Runs PHP inside the e2e WordPress from the command line, with the same extension ini
# as php-fpm (PHP_INI_SCAN_DIR), as the invoking user.
#
#   tests/e2e/env/wp.sh 'echo get_option("siteurl");'     # a snippet (a leading <?php is fine)
#   tests/e2e/env/wp.sh path/to/script.php [args...]      # a file; $argv[0] is its path
#   echo 'echo 1;' | tests/e2e/env/wp.sh -                # a snippet from stdin
#   tests/e2e/env/wp.sh --user admin 'echo current_user_can("manage_options");'
#
# The exit status is the script's. Needs a running env (tests/e2e/env/up.sh).
set -euo pipefail
ENV_TAG=wp
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = --user ]; then
  [ $# -ge 2 ] || die "--user needs a login"
  export WPF_E2E_WP_USER="$2"
  shift 2
fi
[ $# -ge 1 ] || die "usage: wp.sh [--user LOGIN] 'PHP code' | FILE.php [ARGS...] | -"
case "$1" in -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

require_env
# shellcheck disable=SC1091
source "$STATE/env.sh"

if [ "$1" = - ]; then
  exec env PHP_INI_SCAN_DIR="$WPF_E2E_PHP_INI_SCAN_DIR" php "$E2E_ENV_DIR/php/wp-run.php" code "$(cat)"
elif [[ "$1" == *.php ]] && [ -f "$1" ]; then
  file="$(readlink -f "$1")"; shift
  exec env PHP_INI_SCAN_DIR="$WPF_E2E_PHP_INI_SCAN_DIR" php "$E2E_ENV_DIR/php/wp-run.php" file "$file" "$@"
else
  [ $# -eq 1 ] || die "a snippet takes no arguments (quote it as one argument)"
  exec env PHP_INI_SCAN_DIR="$WPF_E2E_PHP_INI_SCAN_DIR" php "$E2E_ENV_DIR/php/wp-run.php" code "$1"
fi
