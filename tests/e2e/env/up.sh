#!/usr/bin/env bash
# Brings up the self-contained e2e environment of wpf-bridge on 127.0.0.1:
# a private MariaDB, WordPress (copied from Debian's package) with the plugin from php/,
# php-fpm (as www-data) with the extension from target/release, nginx, and the fake CRM.
# Everything lives in $WPF_E2E_DIR (default $REPO/.e2e); no system service is used and
# /etc is only read. Idempotent: services already running with the same configuration
# are reused, changed ones are restarted. Writes $WPF_E2E_DIR/env.sh for the tests.
#
#   tests/e2e/env/up.sh [--fresh] [--restart] [--build]
#     --fresh    stop the environment and wipe the state dir first (new DB, new WordPress)
#     --restart  restart every service even if its configuration did not change
#     --build    cargo build --release the extension and the fake CRM first
#
# Environment: WPF_E2E_DIR, WPF_E2E_PORT (8089), WPF_E2E_CRM_PORT (8090),
# WPF_E2E_DB_PORT (8091), WPF_E2E_FPM_WORKERS (4), WPF_E2E_PORT2 (PORT+3: a second php-fpm
# master behind a second nginx port, the same site; 0 = none), WPF_E2E_FPM2_WORKERS (2),
# WPF_E2E_TIMEOUT (60 s per wait), WPF_E2E_WEBHOOK_POOL (0: off; N: webhooks and the drain's
# hand-over requests go to a php-fpm pool of their own with N workers, made from the plugin's
# shipped server/wpf-bridge-webhooks-fpm.conf and routed by its server/wpf-bridge-webhooks-nginx.conf),
# WPF_BRIDGE_SO, WPF_E2E_PLUGIN_SRC, WPF_FAKE_CRM_BIN, WPF_E2E_CRM_SEED, WPF_E2E_WP_SRC
# (/usr/share/wordpress), WPF_E2E_MULTISITE (0). See README.md.
set -euo pipefail
ENV_TAG=up
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRESH=0 RESTART=0 BUILD=0
for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    --restart) RESTART=1 ;;
    --build) BUILD=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (try --help)" ;;
  esac
done

T_START=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
STEP_T=$T_START
step_done() { say "$1 ($(elapsed "$STEP_T")s)"; STEP_T=$EPOCHREALTIME; }
DEGRADED=()   # problems that leave the env running but not fully usable (exit 3)

# ---- preflight ---------------------------------------------------------------
for cmd in mariadbd mariadb-install-db mariadb mariadb-admin php nginx curl flock setsid timeout sha256sum; do
  command -v "$cmd" >/dev/null || die "'$cmd' not found: run scripts/install-deps.sh"
done
[ -x "$PHP_FPM_BIN" ] || die "$PHP_FPM_BIN not found: run scripts/install-deps.sh"
[ -d "$WP_SRC/wp-includes" ] || die "$WP_SRC/wp-includes missing: run scripts/install-deps.sh (WordPress 6.8: scripts/wordpress-6.8.sh)"
[[ "$MULTISITE" =~ ^[01]$ ]] || die "WPF_E2E_MULTISITE must be 0 or 1 (got '$MULTISITE')"
case "$STATE" in *"'"*|*'\'*|*' '*|*'"'*) die "WPF_E2E_DIR must not contain quotes, backslashes or spaces: $STATE" ;; esac
# The webhook pool (README "Keeping visitors fast during CRM storms"): the plugin's shipped files.
WEBHOOK_POOL="${WPF_E2E_WEBHOOK_POOL:-0}"
WEBHOOK_SOCKET="$RUN/php-fpm-webhooks.sock"
WEBHOOK_FPM_SRC="$PLUGIN_SRC/server/wpf-bridge-webhooks-fpm.conf"
WEBHOOK_NGINX_SRC="$PLUGIN_SRC/server/wpf-bridge-webhooks-nginx.conf"
for p in "$PORT" "$CRM_PORT" "$DB_PORT" "$FPM_WORKERS" "$PORT2" "$FPM2_WORKERS" "$WEBHOOK_POOL"; do
  [[ "$p" =~ ^[0-9]+$ ]] || die "ports and worker counts must be numbers (got '$p')"
done
[ "$PORT" != "$CRM_PORT" ] && [ "$PORT" != "$DB_PORT" ] && [ "$CRM_PORT" != "$DB_PORT" ] \
  || die "WPF_E2E_PORT, WPF_E2E_CRM_PORT and WPF_E2E_DB_PORT must differ"
if [ "$PORT2" != 0 ]; then
  for p in "$PORT" "$CRM_PORT" "$DB_PORT"; do
    [ "$PORT2" != "$p" ] || die "WPF_E2E_PORT2 ($PORT2) must differ from the other ports (0 switches the second PHP server off)"
  done
  [ "$FPM2_WORKERS" -ge 1 ] || die "WPF_E2E_FPM2_WORKERS must be at least 1"
fi
if [ "$WEBHOOK_POOL" != 0 ]; then
  for f in "$WEBHOOK_FPM_SRC" "$WEBHOOK_NGINX_SRC"; do
    [ -f "$f" ] || die "WPF_E2E_WEBHOOK_POOL=$WEBHOOK_POOL needs the plugin's $f"
  done
fi
for s in "$DB_SOCKET" "$FPM_SOCKET" "$FPM2_SOCKET" "$WEBHOOK_SOCKET"; do
  [ "${#s}" -lt 100 ] || die "socket path too long for unix sockets (${#s} chars): $s; use a shorter WPF_E2E_DIR"
done
if [ "$IS_ROOT" = 1 ]; then
  id "$WEB_USER" >/dev/null 2>&1 || die "user $WEB_USER missing (it comes with Debian's base system)"
  id mysql >/dev/null 2>&1 || die "user mysql missing: install mariadb-server (scripts/install-deps.sh)"
fi

if [ "$BUILD" = 1 ]; then
  command -v cargo >/dev/null || die "--build needs cargo"
  say "building the extension and the fake CRM (cargo build --release)"
  (cd "$REPO" && cargo build --release -p wpf-bridge -p fake-crm) || die "cargo build failed"
fi

# Never adopt (or wipe) a directory that holds something else than an e2e state dir.
MARKER="$STATE/.wpf-e2e-state"
if [ -d "$STATE" ] && [ ! -f "$MARKER" ] && [ -n "$(ls -A "$STATE" | grep -vx .lock || true)" ]; then
  die "$STATE is not empty and was not made by up.sh (no .wpf-e2e-state): refusing to use it; pick another WPF_E2E_DIR"
fi
take_lock
touch "$MARKER"

if [ "$FRESH" = 1 ]; then
  say "--fresh: stopping the environment and wiping $STATE"
  ENV_TAG=up "$E2E_ENV_DIR/down.sh" --locked
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name .lock ! -name .wpf-e2e-state -exec rm -rf {} +
fi

# ---- layout and secrets ------------------------------------------------------
mkdir -p "$RUN" "$LOGS" "$MAIL_DIR" "$SECRETS" "$DB_DIR/data" "$DB_DIR/run" "$PHP_CONF_D" "$PHP_DIR/ext" \
  "$NGINX_DIR"/tmp/{client_body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$STATE" "$RUN" "$LOGS" "$PHP_DIR" "$PHP_CONF_D" "$PHP_DIR/ext" "$NGINX_DIR"
chmod 700 "$SECRETS"
touch "$LOGS"/{mariadb.log,php-fpm.log,php-fpm2.log,php-error.log,wp-debug.log,nginx-error.log,nginx-access.log,fake-crm.log}
if [ "$IS_ROOT" = 1 ]; then
  chown -R mysql:mysql "$DB_DIR/data" "$DB_DIR/run"
  chown mysql:mysql "$LOGS/mariadb.log"
  chown "$WEB_USER:$WEB_USER" "$MAIL_DIR" "$LOGS/php-error.log" "$LOGS/wp-debug.log"
  chown -R "$WEB_USER:$WEB_USER" "$NGINX_DIR/tmp"
  # Workers run as www-data and mariadbd as mysql: they must reach the state dir.
  for u in "$WEB_USER" mysql; do
    if ! runuser -u "$u" -- test -x "$STATE/run"; then
      d="$STATE"; blocker=""
      while [ "$d" != / ]; do
        runuser -u "$u" -- test -x "$d" 2>/dev/null || blocker="$d"
        d="$(dirname "$d")"
      done
      die "user $u cannot reach $STATE (no search permission on ${blocker:-a parent dir}).
  Either put the state dir somewhere reachable, e.g. WPF_E2E_DIR=/tmp/wpf-e2e tests/e2e/env/up.sh,
  or allow traversal: chmod o+x on the parent directories of $STATE."
    fi
  done
fi

secret() { # secret FILE BYTES: a random hex secret, created once
  local f="$1"
  [ -s "$f" ] || { (umask 077; head -c "$2" /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f"); }
  cat "$f"
}
DB_PASSWORD="$(secret "$SECRETS/db-password" 16)"
ADMIN_PASSWORD_FILE="$STATE/admin-password"
secret "$ADMIN_PASSWORD_FILE" 12 >/dev/null
MAUTIC_PASSWORD="$(secret "$SECRETS/mautic-password" 12)"
MAUTIC_TOKEN="$(secret "$SECRETS/mautic-token" 16)"
USERENGAGE_KEY="$(secret "$SECRETS/userengage-key" 16)"
[ -s "$SECRETS/wp-salts" ] || { (umask 077; for k in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
  printf "define( '%s', '%s' );\n" "$k" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; done >"$SECRETS/wp-salts"); }

# write_if_changed FILE: stdin to FILE, touching it only when the content differs.
write_if_changed() {
  local f="$1" tmp="$1.tmp.$$"
  cat >"$tmp"
  if cmp -s "$tmp" "$f"; then rm -f "$tmp"; else mv -f "$tmp" "$f"; fi
}
fingerprint() { # FILES...: a short hash of their names and contents (missing files count too)
  local f
  for f in "$@"; do echo "== $f"; if [ -f "$f" ]; then cat "$f"; fi; done | sha256sum | cut -c1-16
}

# ensure_service NAME EXE FP: 0 if our NAME is running with fingerprint FP (reuse);
# otherwise stops it (if running) and returns 1 so the caller starts it.
ensure_service() {
  local name="$1" exe="$2" fp="$3" pid
  if pid="$(our_pid "$name" "$exe")"; then
    if [ "$RESTART" = 0 ] && [ "$(cat "$RUN/$name.fp" 2>/dev/null)" = "$fp" ]; then
      say "$name: reusing running instance (pid $pid)"
      return 0
    fi
    if [ "$RESTART" = 1 ]; then say "$name: restarting (--restart)"; else say "$name: configuration changed, restarting"; fi
    stop_service "$name" "$exe" 30
  fi
  return 1
}
require_free_port() { # PORT WHAT ENVVAR
  port_open "$1" && die "port 127.0.0.1:$1 ($2) is already in use by another process; set $3 to a free port"
  return 0
}
# wait_until DESCRIPTION NAME EXE LOG CHECK...: polls CHECK every 0.1 s while our NAME lives.
wait_until() {
  local what="$1" name="$2" exe="$3" log="$4"; shift 4
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    our_pid "$name" "$exe" >/dev/null || die_with_log "$name exited before $what" "$log"
    [ "$SECONDS" -lt "$deadline" ] || die_with_log "$name: $what not reached within ${TIMEOUT}s" "$log"
    sleep 0.1
  done
}

# ---- 1. MariaDB ----------------------------------------------------------------
DB_ADMIN_USER="$(id -un)"   # mariadb-install-db gives the installing OS user unix_socket access
{
  echo "# written by tests/e2e/env/up.sh"
  echo "[mariadbd]"
  [ "$IS_ROOT" = 1 ] && echo "user = mysql"
  cat <<EOF
datadir = $DB_DIR/data
socket = $DB_SOCKET
pid-file = $DB_DIR/run/mariadbd.pid
port = $DB_PORT
bind-address = 127.0.0.1
log-error = $LOGS/mariadb.log
skip-name-resolve
skip-log-bin
performance-schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb-buffer-pool-size = 128M
innodb-log-file-size = 32M
innodb-flush-log-at-trx-commit = 2
max-connections = 100
EOF
} | write_if_changed "$DB_DIR/my.cnf"

if [ ! -d "$DB_DIR/data/mysql" ]; then
  say "mariadb: initialising $DB_DIR/data"
  install_args=(--defaults-file="$DB_DIR/my.cnf" --auth-root-authentication-method=socket --skip-test-db)
  [ "$IS_ROOT" = 1 ] && install_args+=(--user=mysql)
  mariadb-install-db "${install_args[@]}" >"$LOGS/mariadb-install.log" 2>&1 \
    || die_with_log "mariadb-install-db failed" "$LOGS/mariadb-install.log"
fi

db_admin() { mariadb --no-defaults --socket="$DB_SOCKET" -u "$DB_ADMIN_USER" "$@"; }
db_ping() { mariadb-admin --no-defaults --socket="$DB_SOCKET" -u "$DB_ADMIN_USER" --connect-timeout=1 ping; }
if ! ensure_service mariadb "$MARIADBD_EXE" "$(fingerprint "$DB_DIR/my.cnf")"; then
  require_free_port "$DB_PORT" MariaDB WPF_E2E_DB_PORT
  launch mariadb "$LOGS/mariadb.log" "$MARIADBD_EXE" --defaults-file="$DB_DIR/my.cnf"
  fingerprint "$DB_DIR/my.cnf" >"$RUN/mariadb.fp"
fi
wait_until "answering on $DB_SOCKET" mariadb "$MARIADBD_EXE" "$LOGS/mariadb.log" db_ping
db_admin <<SQL || die "could not create the database and its user (see above)"
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
SQL
(umask 077
 printf '[client]\nsocket = %s\nuser = %s\npassword = %s\n[mysql]\ndatabase = %s\n' \
   "$DB_SOCKET" "$DB_USER" "$DB_PASSWORD" "$DB_NAME" | write_if_changed "$DB_DIR/client.cnf"
 printf '[client]\nsocket = %s\nuser = %s\n' "$DB_SOCKET" "$DB_ADMIN_USER" | write_if_changed "$DB_DIR/admin.cnf")
step_done "mariadb: ready on 127.0.0.1:$DB_PORT, database $DB_NAME"

# ---- 2. WordPress files --------------------------------------------------------
if [ -f "$WWW/.wpf-e2e-copied" ] && [ "$(cat "$WWW/.wpf-e2e-copied")" != "$WP_SRC" ]; then
  die "$WWW was copied from $(cat "$WWW/.wpf-e2e-copied"), not $WP_SRC: run up.sh --fresh"
fi
if [ ! -f "$WWW/.wpf-e2e-copied" ]; then
  say "wordpress: copying $WP_SRC (cp -rL) to $WWW"
  rm -rf "$WWW"
  cp -rL "$WP_SRC" "$WWW"
  rm -f "$WWW/.htaccess" "$WWW/wp-config.php"
  mkdir -p "$WWW/wp-content/uploads" "$WWW/wp-content/mu-plugins" "$WWW/wp-content/upgrade" "$WWW/wp-content/themes"
  # Debian 13's wordpress ships no theme either: use Debian 12's (wordpress-theme-twentytwentythree).
  if [ -z "$(ls -A "$WWW/wp-content/themes")" ] && [ "$WP_SRC" != /usr/share/wordpress ]; then
    for theme in /usr/share/wordpress/wp-content/themes/*/; do
      [ -d "$theme" ] && cp -rL "$theme" "$WWW/wp-content/themes/"
    done
  fi
  chmod -R a+rX "$WWW"
  echo "$WP_SRC" >"$WWW/.wpf-e2e-copied"
fi
[ -n "$(ls -A "$WWW/wp-content/themes" 2>/dev/null)" ] \
  || warn "no theme in $WWW/wp-content/themes: the front page will be empty (apt-get install wordpress-theme-twentytwentythree, then up.sh --fresh)"
WP_VERSION="$(sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$WWW/wp-includes/version.php")"
cp "$E2E_ENV_DIR/php/mu-plugins/wpf-e2e.php" "$WWW/wp-content/mu-plugins/wpf-e2e.php.tmp"
mv -f "$WWW/wp-content/mu-plugins/wpf-e2e.php.tmp" "$WWW/wp-content/mu-plugins/wpf-e2e.php"

URL="http://127.0.0.1:$PORT"
CRM_URL="http://127.0.0.1:$CRM_PORT"
# wp-config.php; written again once a multisite network exists.
write_wp_config() {
{
  cat <<EOF
<?php
// Written by tests/e2e/env/up.sh for the e2e environment in $STATE; rewritten on each run.
define( 'DB_NAME', '$DB_NAME' );
define( 'DB_USER', '$DB_USER' );
define( 'DB_PASSWORD', '$DB_PASSWORD' );
define( 'DB_HOST', '127.0.0.1:$DB_PORT' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
\$table_prefix = '$DB_PREFIX';

EOF
  cat "$SECRETS/wp-salts"
  cat <<EOF

EOF
  if [ "$MULTISITE" = 1 ] && [ -f "$STATE/.wpf-e2e-network" ]; then
    # A subdirectory network (tests/e2e/env/php/network.php made it); each site keeps its
    # own home URL, so WP_HOME/WP_SITEURL are not pinned.
    cat <<EOF
define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', '127.0.0.1:$PORT' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
EOF
  else
    cat <<EOF
define( 'WP_HOME', '$URL' );
define( 'WP_SITEURL', '$URL' );
EOF
  fi
  cat <<EOF
define( 'WP_ENVIRONMENT_TYPE', 'local' );

// No internet: only loopback hosts (the site itself, the fake CRM) are reachable.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost' );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'DISABLE_WP_CRON', true );
define( 'FS_METHOD', 'direct' );

define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '$LOGS/wp-debug.log' );
if ( PHP_SAPI === 'cli' ) {
	// wp.sh: errors on stderr (null: WordPress leaves display_errors alone), stdout stays clean.
	define( 'WP_DEBUG_DISPLAY', null );
	ini_set( 'display_errors', 'stderr' );
} else {
	define( 'WP_DEBUG_DISPLAY', false );
}

// Read by the mu-plugin wp-content/mu-plugins/wpf-e2e.php.
define( 'WPF_E2E_MAIL_DIR', '$MAIL_DIR' );
define( 'WPF_E2E_CRM_PORT', $CRM_PORT );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
EOF
} | write_if_changed "$WWW/wp-config.php"
}
write_wp_config
if [ "$IS_ROOT" = 1 ]; then
  chown root:"$WEB_USER" "$WWW/wp-config.php"; chmod 640 "$WWW/wp-config.php"
  # wp-content belongs to the workers; -h: a symlinked plugin keeps its owner.
  chown -R -h "$WEB_USER:$WEB_USER" "$WWW/wp-content"
fi
step_done "wordpress: files and wp-config.php in $WWW"

# ---- 3. PHP: extension ini, php-fpm --------------------------------------------
EXT_COPY="$PHP_DIR/ext/libwpf_bridge.so"
EXT_NAME=""
cat >"$PHP_CONF_D/90-wpf-e2e.ini.tmp" <<EOF
; written by tests/e2e/env/up.sh
; plugin edits show at once
opcache.revalidate_freq = 0
memory_limit = 256M
EOF
mv -f "$PHP_CONF_D/90-wpf-e2e.ini.tmp" "$PHP_CONF_D/90-wpf-e2e.ini"
if [ -f "$SO_SRC" ]; then
  # php-fpm maps a copy, so a cargo rebuild never rewrites a library a worker is running;
  # the next up.sh picks the new build up and restarts php-fpm.
  if ! cmp -s "$SO_SRC" "$EXT_COPY"; then
    cp "$SO_SRC" "$EXT_COPY.tmp" && chmod 644 "$EXT_COPY.tmp" && mv -f "$EXT_COPY.tmp" "$EXT_COPY"
    say "php: copied $SO_SRC"
  fi
  printf '; written by tests/e2e/env/up.sh from %s\nextension=%s\n' "$SO_SRC" "$EXT_COPY" \
    | write_if_changed "$PHP_CONF_D/99-wpf-bridge.ini"
  # Which extension did that add? Compare the CLI with and without our ini folder.
  base="$(php -r 'echo implode("\n", get_loaded_extensions());' 2>/dev/null | sort)"
  if with="$(php_cli -d display_startup_errors=1 -r 'echo "@@EXT@@\n", implode("\n", get_loaded_extensions());' 2>&1)"; then :; fi
  startup_noise="$(awk '/^@@EXT@@$/ { exit } { print }' <<<"$with")"
  EXT_NAME="$(comm -13 <(echo "$base") <(awk 'seen; /^@@EXT@@$/ { seen = 1 }' <<<"$with" | sort) | head -n1)"
  if [ -z "$EXT_NAME" ] || [ -n "$startup_noise" ]; then
    DEGRADED+=("the extension $SO_SRC does not load cleanly into PHP $(php -r 'echo PHP_VERSION;'): ${startup_noise:-no new extension appeared}")
    warn "${DEGRADED[-1]}"
  else
    say "php: extension '$EXT_NAME' loads from $EXT_COPY"
  fi
else
  rm -f "$PHP_CONF_D/99-wpf-bridge.ini" "$EXT_COPY"
  warn "$SO_SRC does not exist yet (cargo build --release): php-fpm starts WITHOUT the extension"
fi

# fpm_config NAME POOL SOCKET WORKERS: one php-fpm master with one static pool. The second
# master (php-fpm2) is the second PHP server: its own processes, socket and status page.
fpm_config() {
  local name="$1" pool="$2" socket="$3" workers="$4"
  cat <<EOF
; written by tests/e2e/env/up.sh
[global]
pid = $PHP_DIR/$name.pid
error_log = $LOGS/$name.log
daemonize = no

[$pool]
EOF
  if [ "$IS_ROOT" = 1 ]; then
    printf 'user = %s\ngroup = %s\nlisten.owner = %s\nlisten.group = %s\nlisten.mode = 0660\n' \
      "$WEB_USER" "$WEB_USER" "$WEB_USER" "$WEB_USER"
  fi
  cat <<EOF
listen = $socket
pm = static
pm.max_children = $workers
ping.path = /fpm-ping
pm.status_path = /fpm-status
catch_workers_output = yes
decorate_workers_output = no
request_terminate_timeout = 120s
request_slowlog_timeout = 5s
slowlog = $LOGS/$name-slow.log
php_value[error_log] = $LOGS/php-error.log
php_admin_flag[log_errors] = on
EOF
  if [ "$name" = php-fpm ] && [ "$WEBHOOK_POOL" != 0 ]; then
    webhook_pool_config
  fi
}
# webhook_pool_config: the plugin's shipped webhook pool as a site owner installs it, with only
# what differs on this machine: the socket, the user (the shipped www-data; a non-root run
# cannot switch users), the number of workers; then the e2e stack's own status page and logs,
# as the site's pool has them.
webhook_pool_config() {
  echo
  echo "; from $WEBHOOK_FPM_SRC (WPF_E2E_WEBHOOK_POOL=$WEBHOOK_POOL)"
  awk -v socket="$WEBHOOK_SOCKET" -v workers="$WEBHOOK_POOL" -v user="$WEB_USER" -v root="$IS_ROOT" '
    /^listen *=/ { print "listen = " socket; n["listen"]++; next }
    /^pm\.max_children *=/ { print "pm.max_children = " workers; n["workers"]++; next }
    /^(user|group|listen\.owner|listen\.group) *=/ { if (root == 1) { sub(/=.*/, "= " user) ; print } ; next }
    { print }
    END { if (n["listen"] != 1 || n["workers"] != 1) { print "shipped pool without one listen and one pm.max_children line" > "/dev/stderr"; exit 1 } }
  ' "$WEBHOOK_FPM_SRC" || die "cannot make the webhook pool from $WEBHOOK_FPM_SRC"
  cat <<EOF
; e2e only: the pool's own status page (nginx: /fpm-webhooks-status) and the stack's logs
ping.path = /fpm-webhooks-ping
pm.status_path = /fpm-webhooks-status
catch_workers_output = yes
decorate_workers_output = no
php_value[error_log] = $LOGS/php-error.log
php_admin_flag[log_errors] = on
EOF
}
FPM_ENV=(env PHP_INI_SCAN_DIR="$PHP_FPM_CONF_D:$PHP_CONF_D")
# start_fpm NAME POOL SOCKET WORKERS: (re)starts php-fpm master NAME unless it runs unchanged.
start_fpm() {
  local name="$1" pool="$2" socket="$3" workers="$4" fp
  fpm_config "$name" "$pool" "$socket" "$workers" | write_if_changed "$PHP_DIR/$name.conf"
  "${FPM_ENV[@]}" "$PHP_FPM_BIN" -t -y "$PHP_DIR/$name.conf" >"$LOGS/$name-test.log" 2>&1 \
    || die_with_log "php-fpm rejects $PHP_DIR/$name.conf" "$LOGS/$name-test.log"
  fp="$(fingerprint "$PHP_DIR/$name.conf" "$PHP_CONF_D"/*.ini "$EXT_COPY")"
  if ! ensure_service "$name" "$PHP_FPM_EXE" "$fp"; then
    rm -f "$socket"
    [ "$name" = php-fpm ] && rm -f "$WEBHOOK_SOCKET"
    launch "$name" "$LOGS/$name.log" "${FPM_ENV[@]}" "$PHP_FPM_BIN" -F -y "$PHP_DIR/$name.conf"
    echo "$fp" >"$RUN/$name.fp"
  fi
  wait_until "listening on $socket" "$name" "$PHP_FPM_EXE" "$LOGS/$name.log" test -S "$socket"
  if [ "$name" = php-fpm ] && [ "$WEBHOOK_POOL" != 0 ]; then
    wait_until "listening on $WEBHOOK_SOCKET" "$name" "$PHP_FPM_EXE" "$LOGS/$name.log" test -S "$WEBHOOK_SOCKET"
    step_done "$name: $workers workers as $([ "$IS_ROOT" = 1 ] && echo "$WEB_USER" || id -un) on $socket; the webhook pool's $WEBHOOK_POOL on $WEBHOOK_SOCKET"
  else
    step_done "$name: $workers workers as $([ "$IS_ROOT" = 1 ] && echo "$WEB_USER" || id -un) on $socket"
  fi
}
start_fpm php-fpm wpf-e2e "$FPM_SOCKET" "$FPM_WORKERS"
if [ "$PORT2" != 0 ]; then
  start_fpm php-fpm2 wpf-e2e2 "$FPM2_SOCKET" "$FPM2_WORKERS"
else
  stop_service php-fpm2 "$PHP_FPM_EXE" 15
  rm -f "$FPM2_SOCKET" "$PHP_DIR/php-fpm2.conf"
fi

# ---- 4. nginx ------------------------------------------------------------------
# Subdirectory multisite: /site2/wp-admin/..., /site2/wp-login.php and the like are core's
# files at the root (WordPress's nginx rules); /site2/ itself goes to index.php as usual.
multisite_rewrites() {
  [ "$MULTISITE" = 1 ] || return 0
  cat <<'EOF'
    if (!-e $request_filename) {
      rewrite /wp-admin$ $scheme://$http_host$uri/ permanent;
      rewrite ^(/[^/]+)?(/wp-.*) $2 last;
      rewrite ^(/[^/]+)?(/.*\.php) $2 last;
    }
EOF
}
# server_block PORT SOCKET [PHP]: WordPress on 127.0.0.1:PORT through the php-fpm at SOCKET,
# or PHP's fastcgi_pass target when given (the webhook pool's `$wpf_bridge_php`). The pool's
# ping and status pages (`/fpm-status?full&json` lists its workers and what each is doing)
# answer loopback clients only.
server_block() {
  local php="${3:-unix:$2}"
  cat <<EOF
  server {
    listen 127.0.0.1:$1;
    server_name 127.0.0.1 localhost;
    root $WWW;
    index index.php;

    location = /fpm-ping { allow 127.0.0.1; deny all; include $NGINX_DIR/fastcgi.conf; fastcgi_pass unix:$2; }
    location = /fpm-status { allow 127.0.0.1; deny all; include $NGINX_DIR/fastcgi.conf; fastcgi_pass unix:$2; }
$([ -z "${3:-}" ] || webhook_status_locations)
    location ~ /\\.(ht|git|wpf-e2e) { deny all; }
$(multisite_rewrites)
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location ~ \\.php\$ {
      try_files \$uri =404;
      include $NGINX_DIR/fastcgi.conf;
      fastcgi_pass $php;
      fastcgi_read_timeout 120s;
    }
  }
EOF
}
webhook_status_locations() {
  cat <<EOF
    location = /fpm-webhooks-ping { allow 127.0.0.1; deny all; include $NGINX_DIR/fastcgi.conf; fastcgi_pass unix:$WEBHOOK_SOCKET; }
    location = /fpm-webhooks-status { allow 127.0.0.1; deny all; include $NGINX_DIR/fastcgi.conf; fastcgi_pass unix:$WEBHOOK_SOCKET; }
EOF
}
# webhook_routing: the plugin's shipped nginx file (http context: the two upstreams and the
# map), its two socket paths set to this stack's pools; the first server's PHP location then
# passes to `$wpf_bridge_php`, as the file's comment tells a site owner to.
webhook_routing() {
  echo "  # from $WEBHOOK_NGINX_SRC (WPF_E2E_WEBHOOK_POOL=$WEBHOOK_POOL)"
  awk -v site="$FPM_SOCKET" -v webhooks="$WEBHOOK_SOCKET" '
    /^upstream wpf_bridge_site *\{/ { up = "site" }
    /^upstream wpf_bridge_webhooks *\{/ { up = "webhooks" }
    /^}/ { up = "" }
    up != "" && /^ *server unix:/ { sub(/unix:[^;]*/, "unix:" (up == "site" ? site : webhooks)); n[up]++ }
    { print "  " $0 }
    END { if (n["site"] != 1 || n["webhooks"] != 1) { print "shipped nginx file without one server line per upstream" > "/dev/stderr"; exit 1 } }
  ' "$WEBHOOK_NGINX_SRC" || die "cannot make the webhook routing from $WEBHOOK_NGINX_SRC"
}
{
  echo "# written by tests/e2e/env/up.sh"
  [ "$IS_ROOT" = 1 ] && echo "user $WEB_USER $WEB_USER;"
  cat <<EOF
worker_processes 2;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $LOGS/nginx-access.log;
  client_body_temp_path $NGINX_DIR/tmp/client_body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  sendfile on;
  keepalive_timeout 30;
  client_max_body_size 16m;
  server_tokens off;

$(if [ "$WEBHOOK_POOL" = 0 ]; then server_block "$PORT" "$FPM_SOCKET"; else webhook_routing; server_block "$PORT" "$FPM_SOCKET" '$wpf_bridge_php'; fi)
$([ "$PORT2" = 0 ] || server_block "$PORT2" "$FPM2_SOCKET")
}
EOF
} | write_if_changed "$NGINX_DIR/nginx.conf"
cat <<'EOF' | write_if_changed "$NGINX_DIR/fastcgi.conf"
# written by tests/e2e/env/up.sh
fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;
fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REQUEST_SCHEME     $scheme;
fastcgi_param  GATEWAY_INTERFACE  CGI/1.1;
fastcgi_param  SERVER_SOFTWARE    nginx;
fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  REMOTE_PORT        $remote_port;
fastcgi_param  SERVER_ADDR        $server_addr;
fastcgi_param  SERVER_PORT        $server_port;
fastcgi_param  SERVER_NAME        $server_name;
fastcgi_param  HTTP_PROXY         "";
fastcgi_param  REDIRECT_STATUS    200;
EOF
NGINX_ARGS=(-p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$LOGS/nginx-error.log")
nginx -t -q "${NGINX_ARGS[@]}" >"$LOGS/nginx-test.log" 2>&1 \
  || die_with_log "nginx rejects $NGINX_DIR/nginx.conf" "$LOGS/nginx-test.log"
NGINX_FP="$(fingerprint "$NGINX_DIR/nginx.conf" "$NGINX_DIR/fastcgi.conf")"
if ! ensure_service nginx "$NGINX_EXE" "$NGINX_FP"; then
  require_free_port "$PORT" nginx WPF_E2E_PORT
  [ "$PORT2" = 0 ] || require_free_port "$PORT2" "nginx (second PHP server)" WPF_E2E_PORT2
  launch nginx "$LOGS/nginx-error.log" "$NGINX_EXE" "${NGINX_ARGS[@]}"
  echo "$NGINX_FP" >"$RUN/nginx.fp"
fi
fpm_pong() { [ "$(curl -s --max-time 2 "$URL/fpm-ping")" = pong ]; }
wait_until "serving $URL/fpm-ping" nginx "$NGINX_EXE" "$LOGS/nginx-error.log" fpm_pong
if [ "$WEBHOOK_POOL" != 0 ]; then
  webhook_pong() { [ "$(curl -s --max-time 2 "$URL/fpm-webhooks-ping")" = pong ]; }
  wait_until "serving $URL/fpm-webhooks-ping" nginx "$NGINX_EXE" "$LOGS/nginx-error.log" webhook_pong
fi
URL2=""
if [ "$PORT2" != 0 ]; then
  URL2="http://127.0.0.1:$PORT2"
  fpm2_pong() { [ "$(curl -s --max-time 2 "$URL2/fpm-ping")" = pong ]; }
  wait_until "serving $URL2/fpm-ping" nginx "$NGINX_EXE" "$LOGS/nginx-error.log" fpm2_pong
fi
step_done "nginx: $URL -> php-fpm answers$([ "$WEBHOOK_POOL" = 0 ] || echo ' (webhooks: its webhook pool)')${URL2:+; $URL2 -> php-fpm2 answers}"

# ---- 5. WordPress install ------------------------------------------------------
export WPF_E2E_WP_DIR="$WWW" WPF_E2E_URL="$URL" WPF_E2E_ADMIN_USER="$ADMIN_USER" \
  WPF_E2E_ADMIN_EMAIL="$ADMIN_EMAIL" WPF_E2E_ADMIN_PASSWORD_FILE="$ADMIN_PASSWORD_FILE"
out="$(php_cli "$E2E_ENV_DIR/php/install.php" 2>&1)" \
  || { printf '%s\n' "$out" >&2; die_with_log "WordPress install failed" "$LOGS/wp-debug.log"; }
step_done "wordpress: $out"
if [ "$MULTISITE" = 1 ]; then
  if [ ! -f "$STATE/.wpf-e2e-network" ]; then
    out="$(php_cli "$E2E_ENV_DIR/php/wp-run.php" file "$E2E_ENV_DIR/php/network.php" 2>&1)" \
      || { printf '%s\n' "$out" >&2; die_with_log "making the multisite network failed" "$LOGS/wp-debug.log"; }
    touch "$STATE/.wpf-e2e-network"
    write_wp_config
    [ "$IS_ROOT" = 1 ] && { chown root:"$WEB_USER" "$WWW/wp-config.php"; chmod 640 "$WWW/wp-config.php"; }
    say "multisite: $out"
  fi
  out="$(php_cli "$E2E_ENV_DIR/php/wp-run.php" file "$E2E_ENV_DIR/php/sites.php" 2>&1)" \
    || { printf '%s\n' "$out" >&2; die_with_log "creating the network's sites failed" "$LOGS/wp-debug.log"; }
  step_done "multisite: $out"
fi

# ---- 6. the plugin -------------------------------------------------------------
PLUGIN_DEST="$WWW/wp-content/plugins/wpf-bridge"
PLUGIN_MODE=none
PLUGIN_ACTIVE=0
readable_by_web() { # every file and directory under $1 readable (and dirs searchable) by www-data
  [ "$IS_ROOT" = 0 ] && return 0
  runuser -u "$WEB_USER" -- sh -c 'cd "$1" 2>/dev/null && [ -z "$(find . \( ! -readable -o -type d ! -executable \) -print -quit 2>&1)" ]' _ "$1"
}
if [ ! -d "$PLUGIN_SRC" ]; then
  rm -rf "$PLUGIN_DEST"
  warn "$PLUGIN_SRC does not exist yet: no plugin installed"
else
  if readable_by_web "$PLUGIN_SRC"; then
    PLUGIN_MODE=symlink
    if [ "$(readlink "$PLUGIN_DEST" 2>/dev/null)" != "$PLUGIN_SRC" ]; then
      rm -rf "$PLUGIN_DEST"
      ln -s "$PLUGIN_SRC" "$PLUGIN_DEST"
    fi
  else
    # A clone under /root (or any dir without o+x) is invisible to www-data: copy instead.
    PLUGIN_MODE=copy
    rm -rf "$PLUGIN_DEST"
    cp -r "$PLUGIN_SRC" "$PLUGIN_DEST"
    chmod -R a+rX "$PLUGIN_DEST"
    warn "www-data cannot read $PLUGIN_SRC: copied it to $PLUGIN_DEST (run up.sh again after editing php/)"
  fi
  if [ -f "$PLUGIN_SRC/wpf-bridge.php" ]; then
    if out="$(php_cli "$E2E_ENV_DIR/php/wp-run.php" file "$E2E_ENV_DIR/php/activate.php" 2>&1)"; then
      PLUGIN_ACTIVE=1
      say "plugin: $PLUGIN_MODE $PLUGIN_SRC, $out"
    else
      DEGRADED+=("the plugin did not activate: $out")
      warn "${DEGRADED[-1]}"
      log_tail "$LOGS/wp-debug.log" 10
    fi
  else
    warn "$PLUGIN_SRC/wpf-bridge.php does not exist yet: plugin linked ($PLUGIN_MODE) but not activated"
  fi
fi
step_done "plugin: $PLUGIN_MODE, active=$PLUGIN_ACTIVE"

# ---- 7. fake CRM ---------------------------------------------------------------
CRM_RUNNING=0
CRM_ARGS=(--port "$CRM_PORT" --mautic-user "$MAUTIC_USER" --mautic-password "$MAUTIC_PASSWORD"
  --mautic-token "$MAUTIC_TOKEN" --userengage-key "$USERENGAGE_KEY")
if [ -n "${WPF_E2E_CRM_SEED:-}" ]; then
  [ -f "$WPF_E2E_CRM_SEED" ] || die "WPF_E2E_CRM_SEED=$WPF_E2E_CRM_SEED: no such file"
  CRM_ARGS+=(--seed "$(readlink -f "$WPF_E2E_CRM_SEED")")
fi
if [ -x "$FAKE_CRM_BIN" ]; then
  CRM_FP="$( { stat -c '%n %s %Y' "$FAKE_CRM_EXE" "${WPF_E2E_CRM_SEED:-/dev/null}"; echo "${CRM_ARGS[*]}"; } | sha256sum | cut -c1-16)"
  if ! ensure_service fake-crm "$FAKE_CRM_EXE" "$CRM_FP"; then
    require_free_port "$CRM_PORT" "fake CRM" WPF_E2E_CRM_PORT
    : >"$LOGS/fake-crm.log"
    launch fake-crm "$LOGS/fake-crm.log" "$FAKE_CRM_EXE" "${CRM_ARGS[@]}"
    echo "$CRM_FP" >"$RUN/fake-crm.fp"
  fi
  wait_until "listening on 127.0.0.1:$CRM_PORT" fake-crm "$FAKE_CRM_EXE" "$LOGS/fake-crm.log" port_open "$CRM_PORT"
  CRM_RUNNING=1
  step_done "fake CRM: $CRM_URL"
else
  stop_service fake-crm "$FAKE_CRM_EXE"
  warn "$FAKE_CRM_BIN does not exist yet (cargo build --release -p fake-crm): no fake CRM"
fi

# ---- 8. final checks and env.sh ------------------------------------------------
http_code() { curl -s -o /dev/null --max-time 30 -w '%{http_code}' "$1" || true; }
for path in / /wp-login.php; do
  code="$(http_code "$URL$path")"
  [ "$code" = 200 ] || die_with_log "GET $URL$path answered $code instead of 200" \
    "$LOGS/nginx-error.log" "$LOGS/php-error.log" "$LOGS/wp-debug.log"
done
if [ -n "$URL2" ] && [ "$MULTISITE" = 0 ]; then
  # WP_HOME names the first port, so the second one's front page redirects there;
  # wp-login.php is served as is. (A network knows its sites by host and port: there the
  # second port serves only what needs no site, e.g. /fpm-ping.)
  code="$(http_code "$URL2/wp-login.php")"
  [ "$code" = 200 ] || die_with_log "GET $URL2/wp-login.php answered $code instead of 200" \
    "$LOGS/nginx-error.log" "$LOGS/php-error.log" "$LOGS/wp-debug.log"
fi

pid_of() { our_pid "$1" "$2" || true; }
(umask 077
cat <<EOF | write_if_changed "$STATE/env.sh"
# Written by tests/e2e/env/up.sh on $(date -u +%FT%TZ); source it in tests: . "$STATE/env.sh"
export WPF_E2E_DIR='$STATE'
export WPF_E2E_URL='$URL'
export WPF_E2E_PORT='$PORT'
export WPF_E2E_PORT2='$PORT2'
export WPF_E2E_WEBHOOK_POOL='$WEBHOOK_POOL'
export WPF_E2E_WEBHOOK_SOCKET='$([ "$WEBHOOK_POOL" = 0 ] || echo "$WEBHOOK_SOCKET")'
export WPF_E2E_URL2='$URL2'
export WPF_E2E_WP_DIR='$WWW'
export WPF_E2E_WP_VERSION='$WP_VERSION'
export WPF_E2E_MULTISITE='$MULTISITE'
export WPF_E2E_ADMIN_USER='$ADMIN_USER'
export WPF_E2E_ADMIN_EMAIL='$ADMIN_EMAIL'
export WPF_E2E_ADMIN_PASSWORD_FILE='$ADMIN_PASSWORD_FILE'
export WPF_E2E_MAIL_DIR='$MAIL_DIR'
export WPF_E2E_LOG_DIR='$LOGS'
export WPF_E2E_WP_DEBUG_LOG='$LOGS/wp-debug.log'
export WPF_E2E_PHP_ERROR_LOG='$LOGS/php-error.log'
export WPF_E2E_DB_HOST='127.0.0.1'
export WPF_E2E_DB_PORT='$DB_PORT'
export WPF_E2E_DB_SOCKET='$DB_SOCKET'
export WPF_E2E_DB_NAME='$DB_NAME'
export WPF_E2E_DB_USER='$DB_USER'
export WPF_E2E_DB_PASSWORD='$DB_PASSWORD'
export WPF_E2E_DB_PREFIX='$DB_PREFIX'
export WPF_E2E_DB_CLIENT_CNF='$DB_DIR/client.cnf'
export WPF_E2E_CRM_URL='$CRM_URL'
export WPF_E2E_CRM_PORT='$CRM_PORT'
export WPF_E2E_CRM_RUNNING='$CRM_RUNNING'
export WPF_E2E_CRM_CONTROL_URL='$CRM_URL/_control/'
export WPF_E2E_MAUTIC_URL='$CRM_URL/mautic'
export WPF_E2E_MAUTIC_USER='$MAUTIC_USER'
export WPF_E2E_MAUTIC_PASSWORD='$MAUTIC_PASSWORD'
export WPF_E2E_MAUTIC_TOKEN='$MAUTIC_TOKEN'
export WPF_E2E_USERENGAGE_URL='$CRM_URL/userengage/api/public/'
export WPF_E2E_USERENGAGE_KEY='$USERENGAGE_KEY'
export WPF_E2E_PHP_INI_SCAN_DIR='$PHP_CLI_CONF_D:$PHP_CONF_D'
export WPF_E2E_EXTENSION_SO='$([ -f "$EXT_COPY" ] && echo "$EXT_COPY" || true)'
export WPF_E2E_EXTENSION_NAME='$EXT_NAME'
export WPF_E2E_PLUGIN_MODE='$PLUGIN_MODE'
export WPF_E2E_PLUGIN_ACTIVE='$PLUGIN_ACTIVE'
export WPF_E2E_MARIADB_PID='$(pid_of mariadb "$MARIADBD_EXE")'
export WPF_E2E_PHP_FPM_PID='$(pid_of php-fpm "$PHP_FPM_EXE")'
export WPF_E2E_PHP_FPM2_PID='$(pid_of php-fpm2 "$PHP_FPM_EXE")'
export WPF_E2E_NGINX_PID='$(pid_of nginx "$NGINX_EXE")'
export WPF_E2E_FAKE_CRM_PID='$(pid_of fake-crm "$FAKE_CRM_EXE")'
EOF
)
[ "$IS_ROOT" = 1 ] && chown -R -h "$WEB_USER:$WEB_USER" "$WWW/wp-content"

say "ready in $(elapsed "$T_START")s: WordPress $WP_VERSION$([ "$MULTISITE" = 1 ] && echo ' (multisite)') at $URL (admin: $ADMIN_USER / password in $ADMIN_PASSWORD_FILE)"
say "tests: . $STATE/env.sh   logs: $LOGS   mail: $MAIL_DIR"
if [ "${#DEGRADED[@]}" -gt 0 ]; then
  for d in "${DEGRADED[@]}"; do warn "$d"; done
  printf '[%s] ERROR: environment is up but degraded (see warnings above); exit 3\n' "$ENV_TAG" >&2
  exit 3
fi
