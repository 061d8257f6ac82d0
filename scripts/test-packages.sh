#!/usr/bin/env bash
# Installs the Debian packages of dist/ (scripts/package.sh) the way a site owner does, with
# `apt-get install ./php<ver>-wpf-bridge_….deb`, into clean Debian chroots of their release, and
# checks what Debian's PHP extension packages promise:
#   bookworm + php8.2-wpf-bridge, trixie + php8.4-wpf-bridge, each:
#     1. php<ver>-fpm installed first, then the package: `php -m` and `php-fpm<ver> -m` list
#        wpf_bridge, the ini is a conffile linked as 20-wpf_bridge.ini into cli/ and fpm/conf.d,
#        php-fpm's restart was asked by its dpkg trigger (policy-rc.d records it), a FastCGI
#        request (cgi-fcgi) to the running php-fpm runs wpf_bridge_version();
#        an administrator's `phpdismod -s fpm` survives a reinstall (upgrade path);
#        remove takes the module out of every SAPI (the ini stays), purge removes the ini;
#     2. the package first, then php<ver>-fpm: fpm has the module;
#   trixie: apt refuses the 8.2 package (no phpapi-20220829 there).
# Chroots: `debootstrap --variant=minbase` once per release with php<ver>-cli and libfcgi-bin
# installed and php<ver>-fpm downloaded, kept in $WPF_CACHE_DIR/{bookworm,trixie}-pkgtest; every
# case runs on a throw-away overlay of it, in a private mount namespace (unshare), so no case
# sees another's changes and no mount outlives the script. Services never start on their own
# (policy-rc.d); the php-fpm a case starts is stopped before its namespace ends.
# Needs root. Each stage's time is printed.
#
#   scripts/test-packages.sh                 # both releases (dist/ must hold both packages)
#   scripts/test-packages.sh bookworm        # one release
#   scripts/test-packages.sh --rebuild ...   # make the chroots again
#   scripts/test-packages.sh --prepare ...   # only make sure the chroots exist
#
#   bookworm, also: the README's "Install on your site" followed literally with Debian's
#     php-fpm, nginx, mariadb-server and wordpress packages (the site on 127.0.0.1:$SITE_PORT):
#     apt install ./….deb, WordPress installed, the zip uploaded through Plugins > Add New >
#     Upload Plugin and activated, the test webhook URL read from the settings page and called.
# Environment: WPF_DIST_DIR (default dist/), WPF_CACHE_DIR (default /var/cache/wpf-bridge),
# WPF_DEBIAN_MIRROR, WPF_PKGTEST_SITE_PORT (default 8124).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
DIST="$(readlink -f "${WPF_DIST_DIR:-$REPO/dist}")"
SITE_PORT="${WPF_PKGTEST_SITE_PORT:-8124}"
CACHE="${WPF_CACHE_DIR:-/var/cache/wpf-bridge}"
say() { printf '[packages] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
started=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
for cmd in debootstrap unshare chroot mount; do
  command -v "$cmd" >/dev/null || die "'$cmd' not found: run scripts/install-deps.sh"
done
rebuild=0 prepare=0 releases=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=1 ;;
    --prepare) prepare=1 ;;
    bookworm|trixie) releases+=("$arg") ;;
    *) echo "usage: scripts/test-packages.sh [--rebuild] [--prepare] [bookworm] [trixie]" >&2; exit 2 ;;
  esac
done
[ "${#releases[@]}" -gt 0 ] || releases=(bookworm trixie)

php_of() { case "$1" in bookworm) echo 8.2 ;; trixie) echo 8.4 ;; esac; }
deb_of() { # deb_of VER: the one package of that PHP in dist/
  local f=("$DIST"/php"$1"-wpf-bridge_*_amd64.deb)
  [ -f "${f[0]}" ] || die "no $DIST/php$1-wpf-bridge_*_amd64.deb: run scripts/package.sh first"
  [ "${#f[@]}" -eq 1 ] || die "more than one php$1 package in $DIST"
  basename "${f[0]}"
}

# ---- the base chroots (once) --------------------------------------------------------
# ensure_base RELEASE: $CACHE/RELEASE-pkgtest with php<ver>-cli and libfcgi-bin, php<ver>-fpm
# (and bookworm's web stack) downloaded (installed by the cases that need them, from the
# cache), and a policy-rc.d that records
# every service action a package asks for instead of running it.
ensure_base() {
  local release="$1" ver root tmp t
  ver="$(php_of "$release")"
  root="$CACHE/$release-pkgtest"
  # Downloaded, installed by the cases: php-fpm, and for bookworm's site case the web stack.
  local later="php$ver-fpm"
  [ "$release" = bookworm ] && later="$later php$ver-mysql nginx mariadb-server wordpress curl"
  local want="php$ver-cli libfcgi-bin; later: $later; v2"
  exec 8>"$CACHE/$release-pkgtest.lock"
  flock 8
  [ "$rebuild" = 1 ] && rm -rf --one-file-system "$root"
  if [ "$(cat "$root/.wpf-bridge-ready" 2>/dev/null)" != "$want" ]; then
    t=$EPOCHREALTIME
    tmp="$root.tmp"
    rm -rf --one-file-system "$tmp"
    local mirror
    mirror="$(scripts/debian-mirror.sh)"
    say "$release: debootstrap --variant=minbase from $mirror (a few minutes, once)"
    debootstrap --variant=minbase "$release" "$tmp" "$mirror" >"$CACHE/$release-pkgtest.log" 2>&1 \
      || { tail -n 20 "$CACHE/$release-pkgtest.log" >&2; die "debootstrap $release failed"; }
    cp /etc/resolv.conf "$tmp/etc/resolv.conf"
    cat >"$tmp/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# wpf-bridge package tests: record what a package asks, start nothing.
echo "$*" >>/var/log/policy-rc.d.log
exit 101
EOF
    chmod +x "$tmp/usr/sbin/policy-rc.d"
    unshare --mount --propagation private bash -euc '
      mount -t proc proc "$1/proc"
      chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "php$2-cli" libfcgi-bin
      chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --download-only ${3}
      umount "$1/proc"
    ' _ "$tmp" "$ver" "$later" >>"$CACHE/$release-pkgtest.log" 2>&1 \
      || { tail -n 20 "$CACHE/$release-pkgtest.log" >&2; die "installing PHP in the $release chroot failed (log: $CACHE/$release-pkgtest.log)"; }
    rm -f "$tmp/var/log/policy-rc.d.log"
    echo "$want" >"$tmp/.wpf-bridge-ready"
    rm -rf --one-file-system "$root"
    mv "$tmp" "$root"
    say "$release: chroot ready in $(elapsed "$t") s: $(chroot "$root" "php$ver" -r 'echo "PHP ", PHP_VERSION;')"
  fi
  flock -u 8
}

# ---- one case on a throw-away overlay ---------------------------------------------------
# The helpers every case script can use (run inside the chroot, sh -e).
PRELUDE='
set -eu
export DEBIAN_FRONTEND=noninteractive
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
has_module() { # has_module BINARY: its -m lists wpf_bridge
  "$@" -m 2>&1 | grep -qx wpf_bridge
}
fpm_start() {
  mkdir -p /run/php
  php-fpm$V --daemonize --fpm-config /etc/php/$V/fpm/php-fpm.conf
  i=0; while [ ! -S /run/php/php$V-fpm.sock ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "php-fpm$V did not start"; sleep 0.1; done
}
fpm_stop() {
  if [ -f /run/php/php$V-fpm.pid ]; then
    pid=$(cat /run/php/php$V-fpm.pid); kill "$pid" 2>/dev/null || true
    i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || { kill -9 "$pid"; break; }; sleep 0.1; done
    rm -f /run/php/php$V-fpm.pid
  fi
}
services_stop() { # everything a case may have started, by its pid file
  fpm_stop
  if [ -f /run/nginx.pid ]; then nginx -s quit 2>/dev/null || kill "$(cat /run/nginx.pid)" 2>/dev/null || true; sleep 0.5; fi
  if [ -f /run/mysqld/mysqld.pid ]; then
    pid=$(cat /run/mysqld/mysqld.pid); kill "$pid" 2>/dev/null || true
    i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 300 ] || { kill -9 "$pid"; break; }; sleep 0.1; done
  fi
}
fcgi() { # fcgi SCRIPT: the body of a FastCGI GET of that file by the running php-fpm
  SCRIPT_FILENAME=$1 SCRIPT_NAME=$1 REQUEST_METHOD=GET QUERY_STRING= \
    cgi-fcgi -bind -connect /run/php/php$V-fpm.sock | sed "1,/^\r\{0,1\}$/d"
}
links() { find /etc/php/$V -path "*/conf.d/*" -name "*wpf_bridge.ini" | sort | tr "\n" " "; }
'
# run_case RELEASE NAME SCRIPT: SCRIPT (sh) in a fresh overlay of the RELEASE chroot, with
# dist/ at /dist; prints its output indented; returns its status.
run_case() {
  local release="$1" name="$2" script="$3" ver lower run t status
  ver="$(php_of "$release")"
  lower="$CACHE/$release-pkgtest"
  run="$(mktemp -d "$CACHE/$release-pkgtest-run.XXXXXX")"
  t=$EPOCHREALTIME
  mkdir -p "$run/upper" "$run/work" "$run/root"
  set +e
  unshare --mount --propagation private bash -euc '
    lower=$1 run=$2 dist=$3 ver=$4 script=$5 port=$6
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$run/root"
    mkdir -p "$run/root/dist"
    mount -t proc proc "$run/root/proc"
    mount --bind /dev "$run/root/dev"
    mount --bind -o ro "$dist" "$run/root/dist"
    cleanup() {
      # A php-fpm the case left running would keep the namespace (and its mounts) alive.
      chroot "$run/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin V="$ver" sh -c "$PRELUDE
services_stop" >/dev/null 2>&1 || true
      umount "$run/root/dist" "$run/root/dev" "$run/root/proc" "$run/root"
    }
    trap cleanup EXIT
    chroot "$run/root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 V="$ver" PORT="$port" sh -c "$PRELUDE
$script"
  ' _ "$lower" "$run" "$DIST" "$ver" "$script" "$SITE_PORT" 2>&1 | sed 's/^/    /'
  status=${PIPESTATUS[0]}
  set -e
  rm -rf --one-file-system "$run"
  if [ "$status" = 0 ]; then
    say "$release: $name: passed ($(elapsed "$t") s)"
  else
    say "$release: $name: FAILED ($(elapsed "$t") s)"
  fi
  return "$status"
}
export PRELUDE

if [ "$prepare" = 1 ]; then
  for release in "${releases[@]}"; do ensure_base "$release"; done
  exit 0
fi

# ---- the cases ------------------------------------------------------------------------------
failed=0
for release in "${releases[@]}"; do
  ver="$(php_of "$release")"
  deb="$(deb_of "$ver")"
  pkg="php$ver-wpf-bridge"
  t=$EPOCHREALTIME
  ensure_base "$release"

  run_case "$release" "php-fpm first, then apt-get install ./$deb; dismod survives reinstall; remove; purge" "
apt-get install -y -qq --no-install-recommends php$ver-fpm >/dev/null
: >/var/log/policy-rc.d.log
apt-get install -y -qq ./dist/$deb 2>&1 | tail -n 3
dpkg-query -W -f='\${Status}\n' $pkg | grep -qx 'install ok installed' || fail '$pkg is not installed'
ok \"installed: \$(dpkg-query -W -f='\${Package} \${Version}' $pkg)\"
extdir=\$(php$ver -r 'echo PHP_EXTENSION_DIR;')
case \"\$extdir\" in /usr/lib/php/20[0-9]*) ;; *) fail \"extension dir \$extdir\" ;; esac
[ -f \"\$extdir/wpf_bridge.so\" ] || fail \"module not in \$extdir\"
ok \"module: \$extdir/wpf_bridge.so\"
grep -qx /etc/php/$ver/mods-available/wpf_bridge.ini /var/lib/dpkg/info/$pkg.conffiles || fail 'the ini is not a conffile'
has_module php$ver || fail 'php -m does not list wpf_bridge'
has_module php-fpm$ver || fail 'php-fpm$ver -m does not list wpf_bridge'
ok \"php -m and php-fpm$ver -m list wpf_bridge; links: \$(links)\"
[ -L /etc/php/$ver/cli/conf.d/20-wpf_bridge.ini ] && [ -L /etc/php/$ver/fpm/conf.d/20-wpf_bridge.ini ] || fail \"links: \$(links)\"
grep -Eq '^php$ver-fpm .*restart' /var/log/policy-rc.d.log || fail \"php-fpm's trigger asked no restart: \$(cat /var/log/policy-rc.d.log)\"
ok \"php-fpm's dpkg trigger asked: \$(grep php$ver-fpm /var/log/policy-rc.d.log | tr '\n' ';')\"
mkdir -p /var/www && echo '<?php echo wpf_bridge_version(), \" \", PHP_SAPI, \" \", PHP_VERSION;' >/var/www/version.php
fpm_start
body=\$(fcgi /var/www/version.php)
fpm_stop
case \"\$body\" in *' fpm-fcgi $ver.'*) ok \"FastCGI request to php-fpm$ver: \$body\" ;; *) fail \"FastCGI answer: \$body\" ;; esac
phpdismod -v $ver -s fpm wpf_bridge
apt-get install -y -qq --reinstall ./dist/$deb >/dev/null 2>&1
[ ! -e /etc/php/$ver/fpm/conf.d/20-wpf_bridge.ini ] || fail 'phpdismod -s fpm did not survive the reinstall'
[ -L /etc/php/$ver/cli/conf.d/20-wpf_bridge.ini ] || fail 'the reinstall lost the cli link'
ok \"an administrator's phpdismod -s fpm survives a reinstall: \$(links)\"
phpenmod -v $ver -s fpm wpf_bridge
apt-get remove -y -qq $pkg >/dev/null 2>&1
[ -z \"\$(links)\" ] || fail \"remove left links: \$(links)\"
has_module php$ver && fail 'php -m still lists wpf_bridge after remove'
has_module php-fpm$ver && fail 'php-fpm -m still lists wpf_bridge after remove'
[ -f /etc/php/$ver/mods-available/wpf_bridge.ini ] || fail 'remove deleted the conffile (only purge should)'
ok 'remove: no SAPI loads the module, the ini stays'
apt-get purge -y -qq $pkg >/dev/null 2>&1
[ ! -e /etc/php/$ver/mods-available/wpf_bridge.ini ] || fail 'purge left the ini'
[ -z \"\$(find /etc/php -xtype l)\" ] || fail \"dangling links after purge: \$(find /etc/php -xtype l)\"
ok 'purge: the ini and every link are gone'
" || failed=$((failed + 1))

  run_case "$release" "apt-get install ./$deb first, then php$ver-fpm" "
apt-get install -y -qq ./dist/$deb >/dev/null 2>&1
has_module php$ver || fail 'php -m does not list wpf_bridge'
[ ! -e /etc/php/$ver/fpm ] || fail 'fpm config exists before php-fpm is installed'
apt-get install -y -qq --no-install-recommends php$ver-fpm >/dev/null 2>&1
has_module php-fpm$ver || fail 'php-fpm$ver installed after the package does not load wpf_bridge'
ok \"php-fpm$ver installed second loads wpf_bridge: \$(links)\"
" || failed=$((failed + 1))

  if [ "$release" = bookworm ]; then
    zip="$(cd "$DIST" && ls wpf-bridge-*.zip)"
    run_case "$release" "README's Install on your site: apt install ./$deb, nginx + php-fpm + Debian's wordpress, upload $zip, a webhook" "
apt-get install -y -qq --no-install-recommends php$ver-fpm php$ver-mysql nginx mariadb-server wordpress curl >/dev/null 2>&1 || fail 'installing the web stack failed'
apt install -y ./dist/$deb >/dev/null 2>&1 || fail 'apt install ./$deb failed'
ok \"installed: \$(dpkg-query -W -f='\${Package} \${Version}' $pkg), nginx, mariadb-server, wordpress \$(dpkg-query -W -f='\${Version}' wordpress)\"
# MariaDB on its socket only; WordPress's database, as Debian's README.Debian has it.
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null 2>&1
mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid >/var/log/mariadbd.log 2>&1 &
i=0; until mariadb-admin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; do i=\$((i + 1)); [ \$i -lt 300 ] || fail 'mariadb did not start'; sleep 0.1; done
mariadb --socket=/run/mysqld/mysqld.sock -e \"CREATE DATABASE wordpress; CREATE USER wordpress@localhost IDENTIFIED BY 'site-pw'; GRANT ALL ON wordpress.* TO wordpress@localhost;\"
cat >/etc/wordpress/config-127.0.0.1.php <<'EOF'
<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', 'site-pw');
define('DB_HOST', 'localhost');
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
define('FS_METHOD', 'direct');
EOF
chown -R www-data:www-data /var/lib/wordpress/wp-content
cat >/etc/nginx/sites-enabled/default <<EOF
server {
    listen 127.0.0.1:\$PORT;
    root /usr/share/wordpress;
    index index.php;
    client_max_body_size 16m;
    location / { try_files \\\$uri \\\$uri/ /index.php?\\\$args; }
    location ~ \\.php\\\$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php$ver-fpm.sock;
    }
}
EOF
fpm_start
nginx || fail 'nginx did not start'
url=http://127.0.0.1:\$PORT
jar=/tmp/cookies
curl -sf -o /dev/null \"\$url/wp-admin/install.php?step=2\" --data-urlencode weblog_title=Site --data-urlencode user_name=admin \
  --data-urlencode admin_password=site-admin-pw-123 --data-urlencode admin_password2=site-admin-pw-123 --data-urlencode pw_weak=1 \
  --data-urlencode admin_email=admin@example.com --data-urlencode blog_public=0 || fail 'installing WordPress failed'
curl -sf -o /dev/null -c \$jar \"\$url/wp-login.php\"
code=\$(curl -s -o /dev/null -w '%{http_code}' -b \$jar -c \$jar \"\$url/wp-login.php\" --data-urlencode log=admin \
  --data-urlencode pwd=site-admin-pw-123 --data-urlencode testcookie=1 --data-urlencode redirect_to=\$url/wp-admin/)
[ \"\$code\" = 302 ] || fail \"logging in answered \$code\"
ok \"WordPress \$(php$ver -r 'include \"/usr/share/wordpress/wp-includes/version.php\"; echo \$wp_version;') installed at \$url, admin logged in\"
# Plugins > Add New > Upload Plugin: the form's nonce, then the zip as the browser posts it.
nonce=\$(curl -s -b \$jar \"\$url/wp-admin/plugin-install.php?tab=upload\" | grep -o 'name=\"_wpnonce\" value=\"[0-9a-f]*\"' | head -n1 | sed 's/.*value=\"\\([0-9a-f]*\\)\"/\\1/')
[ -n \"\$nonce\" ] || fail 'no upload form on plugin-install.php?tab=upload'
out=\$(curl -s -b \$jar \"\$url/wp-admin/update.php?action=upload-plugin\" -F _wpnonce=\$nonce \
  -F _wp_http_referer=/wp-admin/plugin-install.php?tab=upload -F pluginzip=@/dist/$zip -F 'install-plugin-submit=Install Now')
echo \"\$out\" | grep -q 'Plugin installed successfully' || fail \"the upload did not install the plugin: \$(echo \"\$out\" | sed 's/<[^>]*>//g' | grep -v '^[[:space:]]*\$' | tail -n 5)\"
activate=\$(echo \"\$out\" | grep -o 'plugins.php?action=activate[^\"]*' | head -n1 | sed 's/&amp;/\\&/g')
[ -n \"\$activate\" ] || fail 'no Activate Plugin link after the upload'
curl -s -o /dev/null -b \$jar \"\$url/wp-admin/\$activate\"
ok \"$zip uploaded and activated: \$(ls /var/lib/wordpress/wp-content/plugins/wpf-bridge | tr '\\n' ' ')\"
# Settings > WPF Bridge shows the webhook URLs to paste into the CRM; call the test one.
page=\$(curl -s -b \$jar \"\$url/wp-admin/options-general.php?page=wpf-bridge\")
echo \"\$page\" | grep -q 'data-loaded=\"1\"' || fail 'the settings page says the extension is not loaded'
hook=\$(echo \"\$page\" | grep -o 'http://127.0.0.1:[0-9]*/?wpf_action=test&amp;access_key=[A-Za-z0-9_-]*' | head -n1 | sed 's/&amp;/\\&/g')
[ -n \"\$hook\" ] || fail 'no test webhook URL on the settings page'
answer=\$(curl -s -w ' %{http_code}' \"\$hook\")
case \"\$answer\" in *'\"success\":true'*' 200') ok \"the CRM's test call answered: \$answer\" ;; *) fail \"the test webhook answered: \$answer\" ;; esac
services_stop
" || failed=$((failed + 1))
  fi
  if [ "$release" = trixie ]; then
    deb82="$(deb_of 8.2)"
    run_case "$release" "apt refuses ./$deb82" "
if out=\$(apt-get install -y ./dist/$deb82 2>&1); then fail \"apt installed the 8.2 package in trixie: \$out\"; fi
echo \"\$out\" | grep -q 'phpapi-20220829' || fail \"apt refused, but not for phpapi-20220829: \$out\"
ok \"apt refuses: \$(echo \"\$out\" | grep -m1 'Depends: phpapi-20220829' | sed 's/^ *//')\"
" || failed=$((failed + 1))
  fi
  say "$release: done in $(elapsed "$t") s"
done
say "finished in $(elapsed "$started") s: $failed case(s) failed"
[ "$failed" -eq 0 ]
