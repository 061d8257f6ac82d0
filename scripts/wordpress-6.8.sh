#!/usr/bin/env bash
# Fetches Debian 13's `wordpress` package (6.8) and unpacks it for the e2e environment; prints
# the path of its WordPress tree (for WPF_E2E_WP_SRC). The machine's apt sources stay as they
# are: apt runs with a configuration of its own in $CACHE/apt-trixie (its own sources.list for
# Debian 13 on the mirror the machine already uses, scripts/debian-mirror.sh; its own lists and
# archive cache). The package is unpacked with dpkg-deb, never installed. Its symlinks into other
# Debian 13 packages (getID3, underscore, lodash, cropper, ...) that do not resolve on this
# Debian 12 machine are pointed at the files Debian 12's packages provide (installed with
# `wordpress` by scripts/install-deps.sh). A second run reuses the unpacked tree.
#
#   scripts/wordpress-6.8.sh            # prints e.g. /var/cache/wpf-bridge/wordpress-6.8/usr/share/wordpress
#   scripts/wordpress-6.8.sh --refresh  # apt-get update and unpack again
#
# Environment: WPF_CACHE_DIR (default /var/cache/wpf-bridge, or $REPO/.cache when not root),
# WPF_DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[wordpress-6.8] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then CACHE="${WPF_CACHE_DIR:-/var/cache/wpf-bridge}"; else CACHE="${WPF_CACHE_DIR:-$PWD/.cache}"; fi
APT="$CACHE/apt-trixie"
DEST="$CACHE/wordpress-6.8"
WP="$DEST/usr/share/wordpress"

if [ "${1:-}" != --refresh ] && [ -f "$DEST/.ready" ]; then
  echo "$WP"
  exit 0
fi

MIRROR="$(scripts/debian-mirror.sh)"
mkdir -p "$APT/etc/apt.conf.d" "$APT/etc/preferences.d" "$APT/etc/sources.list.d" \
  "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"
printf 'deb [signed-by=%s] %s trixie main\n' "$KEYRING" "$MIRROR" >"$APT/etc/sources.list"
apt_private() { # apt-get or apt-cache (first argument) with the private configuration
  local tool="$1"; shift
  "$tool" -q -o Dir::Etc="$APT/etc" -o Dir::Etc::SourceList="$APT/etc/sources.list" \
    -o Dir::Etc::SourceParts="$APT/etc/sources.list.d" -o Dir::State::Lists="$APT/lists" \
    -o Dir::Cache="$APT/cache" -o Dir::State::status=/dev/null -o APT::Sandbox::User=root \
    -o Debug::NoLocking=true "$@"
}
say "apt-get update (Debian 13 from $MIRROR, lists in $APT)"
apt_private apt-get update -qq >&2 || die "apt-get update failed for trixie"
version="$(apt_private apt-cache show wordpress 2>/dev/null | awk '$1 == "Version:" && v == "" { v = $2 } END { print v }')"
[ -n "$version" ] || die "no wordpress package in trixie's lists"
case "$version" in 6.8*) ;; *) die "trixie's wordpress is $version, not 6.8" ;; esac
(cd "$APT/debs" && rm -f wordpress_*.deb && apt_private apt-get download "wordpress=$version" >&2) \
  || die "apt-get download wordpress failed"
deb="$(ls "$APT/debs"/wordpress_*.deb)"

say "unpacking $(basename "$deb")"
rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp"
dpkg-deb -x "$deb" "$DEST.tmp"

# Symlinks into other Debian 13 packages (relative, e.g. wp-includes/ID3/getid3.php ->
# ../../../php/getid3/getid3.php, i.e. /usr/share/php/getid3/getid3.php) dangle here. Each is
# pointed at the same path on this machine when a Debian 12 package has it (libphp-getid3,
# libjs-underscore, libjs-cropper), else at the same file of Debian 12's wordpress package
# (lodash, which Debian 12 bundles in wordpress), else at a file of the same name in Debian 12's
# /usr/share/{php,javascript}. Anything left dangling is an error (cp -rL in up.sh would fail).
fix_link() { # LINK REL: rewrites a dangling symlink; REL is its path as installed
  local link="$1" rel="$2" target abs base alt
  target="$(readlink "$link")"
  case "$target" in /*) abs="$target" ;; *) abs="$(realpath -m "$(dirname "$rel")/$target")" ;; esac
  base="$(basename "$abs")"
  alt=""
  if [ -e "$abs" ]; then
    alt="$abs"
  elif [ -e "$rel" ] && [ "$(realpath "$rel")" != "$(realpath -m "$link")" ]; then
    alt="$(realpath "$rel")"
  else
    case "$abs" in
      /usr/share/php/*|/usr/share/javascript/*)
        alt="$(find /usr/share/php /usr/share/javascript /usr/share/nodejs -name "$base" \( -type f -o -type l \) 2>/dev/null | head -n1)" ;;
    esac
  fi
  [ -n "$alt" ] && [ -e "$alt" ] || return 1
  ln -sfn "$alt" "$link"
  [ "$alt" = "$abs" ] || say "  $rel: $abs -> $alt"
}
dangling=()
fixed=0
while IFS= read -r -d '' link; do
  rel="${link#"$DEST.tmp"}"
  # Debian's config links (/etc/wordpress, /var/lib/wordpress) are replaced by up.sh anyway.
  case "$(realpath -m "$(dirname "$rel")/$(readlink "$link")")" in
    /etc/*|/var/lib/wordpress*) rm -f "$link"; continue ;;
  esac
  if fix_link "$link" "$rel"; then fixed=$((fixed + 1)); else dangling+=("$rel -> $(readlink "$link")"); fi
done < <(find "$DEST.tmp" -xtype l -print0)
[ ${#dangling[@]} -eq 0 ] || die "symlinks with no Debian 12 counterpart: ${dangling[*]}"
say "$fixed symlinks now point at Debian 12's files"

echo "$version" >"$DEST.tmp/.ready"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
say "WordPress $(sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$WP/wp-includes/version.php") in $WP"
echo "$WP"
