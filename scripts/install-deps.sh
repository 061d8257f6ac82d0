#!/usr/bin/env bash
# Installs every Debian 12 package wpf-bridge needs to build, test, package and run its demo,
# then checks the Rust toolchain (Debian 12's own cargo is too old: see below). Safe to run
# twice: apt-get skips what is already installed. (cargo-deb, a crate, is installed by
# scripts/package.sh when it is missing.)
set -euo pipefail

packages=(
  # build the extension
  php8.2-cli php8.2-dev libphp8.2-embed libclang-dev clang pkg-config
  # run WordPress end to end
  php8.2-fpm php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml
  mariadb-server mariadb-client nginx wordpress curl
  # the e2e site's front page needs a theme: Debian's wordpress package ships none
  wordpress-theme-twentytwentythree
  # tests; wrk loads the site in scripts/bench-webhooks.sh, whose storm samples php-fpm's
  # listen queue with ss (iproute2: not in every minimal image); the e2e tests and the bench
  # find php-fpm's workers with pgrep (procps: php8.2-fpm pulls it in, named here since we call it)
  phpunit chromium chromium-driver wrk iproute2 procps
  # PHP 8.4 tests in a Debian 13 chroot (scripts/test-php84.sh); Debian 13's WordPress 6.8 is
  # fetched with apt itself (scripts/wordpress-6.8.sh), the keys come with debian-archive-keyring
  debootstrap debian-archive-keyring
  # packages: scripts/package.sh (cargo-deb runs dpkg-shlibdeps; lintian; the plugin zip and
  # its translation template) and scripts/test-packages.sh (chroots of bookworm and trixie)
  dpkg-dev lintian zip unzip gettext
)

# Rust: Cargo.toml's rust-version, which Debian 12's cargo (1.65) does not reach (it cannot
# even read Cargo.lock's version 4). Stop early with the ways to get one.
check_rust() {
  local need have
  need="$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' "$(dirname "$0")/../Cargo.toml")"
  have="$(cargo --version 2>/dev/null | awk '{ print $2 }' || true)"
  if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
    cat >&2 <<EOF
install-deps: wpf-bridge needs Rust $need or newer; $( [ -n "$have" ] && echo "this cargo is $have ($(command -v cargo))" || echo "no cargo was found" ).
  Debian 12's own rustc/cargo (1.63/1.65) are too old. Get a newer toolchain either way:
  - rustup (https://rustup.rs): curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh,
    then open a new shell (cargo is in ~/.cargo/bin);
  - or Debian 13 (trixie), whose cargo is new enough: apt-get install cargo there.
EOF
    exit 1
  fi
  echo "install-deps: Rust $have (needs $need)"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  check_rust
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# Services must not start on install: the tests run their own private instances on 127.0.0.1.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
check_rust
