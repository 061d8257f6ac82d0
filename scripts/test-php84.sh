#!/usr/bin/env bash
# Builds and tests the extension against Debian 13's PHP 8.4, in a Debian 13 (trixie) chroot:
#   1. once: debootstrap --variant=minbase trixie, from the mirror this machine's apt uses
#      (scripts/debian-mirror.sh), then php8.4-cli php8.4-dev libphp8.4-embed clang libclang-dev
#      phpunit and what cargo needs to link. Kept in $CACHE/trixie-php84 (a second run reuses it).
#   2. every run, in a private mount namespace (unshare), so no mount outlives the script:
#      /proc, /dev, the repo (at /src), ~/.cargo and ~/.rustup (the host's Rust toolchain and
#      crates) and a target dir of its own ($CACHE/target-php84, never the host's target/, which
#      is built for PHP 8.2) are bind-mounted into the chroot; then `cargo test --workspace` and
#      scripts/test-php.sh (the PHPUnit suite against the release build) run there.
# Needs root (debootstrap, chroot, mount). Exits with the tests' status.
#
#   scripts/test-php84.sh               # build the chroot if needed, run both suites
#   scripts/test-php84.sh --rebuild     # throw the chroot away and make it again
#   scripts/test-php84.sh --prepare     # only make sure the chroot exists (scripts/package.sh
#                                       # builds the PHP 8.4 package in it)
#
# Environment: WPF_CACHE_DIR (default /var/cache/wpf-bridge), WPF_DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
say() { printf '[php84] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
started=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and bind mounts)"
for cmd in debootstrap unshare chroot mount; do
  command -v "$cmd" >/dev/null || die "'$cmd' not found: run scripts/install-deps.sh"
done
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
[ -x "$CARGO_HOME/bin/cargo" ] || die "no cargo in $CARGO_HOME/bin (rustup's layout is expected)"
[ -d "$RUSTUP_HOME/toolchains" ] || die "no Rust toolchain in $RUSTUP_HOME"

CACHE="${WPF_CACHE_DIR:-/var/cache/wpf-bridge}"
ROOT="$CACHE/trixie-php84"
TARGET="$CACHE/target-php84"
PACKAGES=(php8.4-cli php8.4-dev libphp8.4-embed clang libclang-dev phpunit
  gcc libc6-dev pkg-config ca-certificates)
READY="$ROOT/.wpf-bridge-ready"
mkdir -p "$CACHE" "$TARGET"

# One run at a time makes the chroot (test.sh and package.sh may both need it at once).
exec 9>"$CACHE/trixie-php84.lock"
flock 9
if [ "${1:-}" = --rebuild ]; then
  say "--rebuild: removing $ROOT"
  rm -rf --one-file-system "$ROOT"
fi

# ---- 1. the chroot (once) ------------------------------------------------------
if [ "$(cat "$READY" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
  t=$EPOCHREALTIME
  MIRROR="$(scripts/debian-mirror.sh)"
  tmp="$ROOT.tmp"
  rm -rf --one-file-system "$tmp"
  say "debootstrap --variant=minbase trixie from $MIRROR (a few minutes)"
  debootstrap --variant=minbase trixie "$tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  say "installing ${PACKAGES[*]}"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # Services never start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod +x "$tmp/usr/sbin/policy-rc.d"
  unshare --mount --propagation private bash -euc '
    mount -t proc proc "$1/proc"
    chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${@:2}"
    chroot "$1" apt-get clean
  ' _ "$tmp" "${PACKAGES[@]}" >"$CACHE/chroot-install.log" 2>&1 \
    || { tail -n 20 "$CACHE/chroot-install.log" >&2; die "installing packages in the chroot failed (log: $CACHE/chroot-install.log)"; }
  echo "${PACKAGES[*]}" >"$tmp/.wpf-bridge-ready"
  rm -rf --one-file-system "$ROOT"
  mv "$tmp" "$ROOT"
  say "chroot ready in $(elapsed "$t")s: $(chroot "$ROOT" php8.4 -r 'echo "PHP ", PHP_VERSION;')"
fi

flock -u 9
if [ "${1:-}" = --prepare ]; then
  say "chroot ready: $ROOT"
  exit 0
fi

# ---- 2. build and test inside ---------------------------------------------------
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"   # crates.io, when a crate is not downloaded yet
say "cargo test --workspace and PHPUnit against PHP $(chroot "$ROOT" php8.4 -r 'echo PHP_VERSION;') (target: $TARGET)"
set +e
unshare --mount --propagation private bash -euc '
  root=$1 repo=$2 target=$3 cargo_home=$4 rustup_home=$5
  mkdir -p "$root/src" "$root/target" "$root/root/.cargo" "$root/root/.rustup"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount --bind "$repo" "$root/src"
  mount --bind "$target" "$root/target"
  mount --bind "$cargo_home" "$root/root/.cargo"
  mount --bind "$rustup_home" "$root/root/.rustup"
  # The namespace ends with this shell, and its mounts with it; unmount explicitly anyway.
  trap "umount \"\$root/root/.rustup\" \"\$root/root/.cargo\" \"\$root/target\" \"\$root/src\" \"\$root/dev\" \"\$root/proc\"" EXIT
  chroot "$root" env -i HOME=/root PATH=/root/.cargo/bin:/usr/local/bin:/usr/bin:/bin \
    CARGO_HOME=/root/.cargo RUSTUP_HOME=/root/.rustup CARGO_TARGET_DIR=/target \
    CARGO_TERM_COLOR=never LANG=C.UTF-8 \
    bash -euc "cd /src
      echo \"=== cargo test --workspace (PHP \$(php -r \"echo PHP_VERSION;\"))\"
      cargo test --workspace --quiet
      echo \"=== phpunit (\$(phpunit --version | head -n1))\"
      bash scripts/test-php.sh"
' _ "$ROOT" "$REPO" "$TARGET" "$CARGO_HOME" "$RUSTUP_HOME"
status=$?
set -e
say "finished in $(elapsed "$started")s with status $status"
exit "$status"
