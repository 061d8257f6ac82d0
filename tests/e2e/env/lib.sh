# shellcheck shell=bash
# Shared by up.sh, down.sh, wp.sh and mysql.sh: paths, settings, logging and the
# start/stop helpers for the private services of the e2e environment.
# Everything lives under $STATE and listens on 127.0.0.1 only.

E2E_ENV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$E2E_ENV_DIR/../../.." && pwd)"

STATE="${WPF_E2E_DIR:-$("$E2E_ENV_DIR/state-dir.sh" e2e)}"
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
STATE="${STATE%/}"

PORT="${WPF_E2E_PORT:-8089}"
CRM_PORT="${WPF_E2E_CRM_PORT:-8090}"
DB_PORT="${WPF_E2E_DB_PORT:-8091}"
FPM_WORKERS="${WPF_E2E_FPM_WORKERS:-4}"
# The second PHP server (its own php-fpm master and pool behind a second nginx port, on the
# same WordPress and database, like a second machine); 0 switches it off.
PORT2="${WPF_E2E_PORT2:-$((PORT + 3))}"
FPM2_WORKERS="${WPF_E2E_FPM2_WORKERS:-2}"
TIMEOUT="${WPF_E2E_TIMEOUT:-60}"
SO_SRC="${WPF_BRIDGE_SO:-$REPO/target/release/libwpf_bridge.so}"
PLUGIN_SRC="${WPF_E2E_PLUGIN_SRC:-$REPO/php}"
FAKE_CRM_BIN="${WPF_FAKE_CRM_BIN:-$REPO/target/release/fake-crm}"
# WordPress to copy: Debian 12's package (6.1), or Debian 13's 6.8 unpacked by
# scripts/wordpress-6.8.sh. A multisite network (subdirectories) with WPF_E2E_MULTISITE=1.
WP_SRC="${WPF_E2E_WP_SRC:-/usr/share/wordpress}"
MULTISITE="${WPF_E2E_MULTISITE:-0}"

DB_NAME=wordpress
DB_USER=wordpress
DB_PREFIX=wp_
ADMIN_USER=admin
ADMIN_EMAIL=admin@example.com
MAUTIC_USER=wpf-e2e

RUN="$STATE/run"          # our pid files, fingerprints, php-fpm socket
LOGS="$STATE/logs"
WWW="$STATE/www"
MAIL_DIR="$STATE/mail"
SECRETS="$STATE/secrets"
DB_DIR="$STATE/mariadb"
DB_SOCKET="$DB_DIR/run/mariadb.sock"
PHP_DIR="$STATE/php"
PHP_CONF_D="$PHP_DIR/conf.d"
FPM_SOCKET="$RUN/php-fpm.sock"
FPM2_SOCKET="$RUN/php-fpm2.sock"
NGINX_DIR="$STATE/nginx"

PHP_FPM_BIN="${WPF_E2E_PHP_FPM:-/usr/sbin/php-fpm8.2}"
PHP_CLI_CONF_D=/etc/php/8.2/cli/conf.d
PHP_FPM_CONF_D=/etc/php/8.2/fpm/conf.d
WEB_USER=www-data

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

ENV_TAG="${ENV_TAG:-e2e-env}"
say()  { printf '[%s] %s\n' "$ENV_TAG" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$ENV_TAG" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$ENV_TAG" "$*" >&2; exit 1; }

# Prints the last lines of a log file, indented, to help explain a failure.
log_tail() {
  local f="$1" n="${2:-25}"
  if [ -s "$f" ]; then
    printf '[%s] --- last %s lines of %s ---\n' "$ENV_TAG" "$n" "$f" >&2
    tail -n "$n" "$f" | sed 's/^/    /' >&2
  else
    printf '[%s] (%s is empty or missing)\n' "$ENV_TAG" "$f" >&2
  fi
}
die_with_log() { local msg="$1"; shift; local f; for f in "$@"; do log_tail "$f"; done; die "$msg"; }

# Serialise up.sh/down.sh runs on one state dir.
take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another up.sh/down.sh holds $STATE/.lock for 5 minutes"
}

# ---- processes ---------------------------------------------------------------
# A pid file in $RUN is written by the process itself (through the launcher below)
# just before it execs the service, so its pid is exact. A pid counts as ours only if
# /proc/PID/exe is the expected binary (zombies and dead processes have no exe, see
# reference/wordpress-on-debian.md #7) and its command line or working directory
# mentions $STATE. Nothing else is ever signalled.

pid_alive() { readlink "/proc/$1/exe" >/dev/null 2>&1; }

# our_pid NAME EXE: prints the pid of our running service NAME, or fails.
our_pid() {
  local name="$1" exe="$2" f="$RUN/$1.pid" pid real cmd cwd
  [ -f "$f" ] || return 1
  pid="$(tr -dc 0-9 <"$f")"
  [ -n "$pid" ] || return 1
  real="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  real="${real% (deleted)}"
  [ "$real" = "$exe" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  case "$cmd" in *"$STATE"*) echo "$pid"; return 0 ;; esac
  case "$cwd/" in "$STATE"/*) echo "$pid"; return 0 ;; esac
  return 1
}

# launch NAME LOG CMD...: starts CMD in its own session, cwd $STATE, output to LOG.
launch() {
  local name="$1" log="$2"; shift 2
  rm -f "$RUN/$name.pid"
  ( cd "$STATE" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" \
      >>"$log" 2>&1 </dev/null 9>&- ) &
  local i pid shell
  shell="$(readlink -f "$BASH")"
  for i in $(seq 1 200); do
    if [ -s "$RUN/$name.pid" ]; then
      # The pid is the launcher's until its exec: wait for that, or our_pid (which checks
      # the binary) would take the service for dead in the meantime.
      pid="$(tr -dc 0-9 <"$RUN/$name.pid")"
      [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$shell" ] && return 0
    fi
    sleep 0.05
  done
  die_with_log "$name did not start" "$log"
}

# stop_service NAME EXE [SECONDS]: TERM, wait, then KILL; only our own pid.
stop_service() {
  local name="$1" exe="$2" grace="${3:-20}" pid i
  if ! pid="$(our_pid "$name" "$exe")"; then
    rm -f "$RUN/$name.pid" "$RUN/$name.fp"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((grace * 10))); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
  fi
  say "stopped $name (pid $pid)"
  rm -f "$RUN/$name.pid" "$RUN/$name.fp"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Binaries of the services, resolved like /proc/PID/exe shows them.
MARIADBD_EXE="$(readlink -f "$(command -v mariadbd || echo /usr/sbin/mariadbd)")"
NGINX_EXE="$(readlink -f "$(command -v nginx || echo /usr/sbin/nginx)")"
PHP_FPM_EXE="$(readlink -f "$PHP_FPM_BIN" 2>/dev/null || echo "$PHP_FPM_BIN")"
FAKE_CRM_EXE="$(readlink -f "$FAKE_CRM_BIN" 2>/dev/null || echo "$FAKE_CRM_BIN")"

# The php CLI with the same extension ini as php-fpm.
php_cli() { PHP_INI_SCAN_DIR="$PHP_CLI_CONF_D:$PHP_CONF_D" php "$@"; }

require_env() {
  [ -f "$STATE/env.sh" ] || die "no environment in $STATE: run tests/e2e/env/up.sh first"
}
