#!/usr/bin/env bash
# Installs every Debian 12 package wpf-bridge needs to build, test and run its demo.
# Safe to run twice: apt-get skips what is already installed.
set -euo pipefail

packages=(
  # build the extension
  php8.2-cli php8.2-dev libphp8.2-embed libclang-dev clang pkg-config
  # run WordPress end to end
  php8.2-fpm php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml
  mariadb-server mariadb-client nginx wordpress curl
  # the e2e site's front page needs a theme: Debian's wordpress package ships none
  wordpress-theme-twentytwentythree
  # tests; wrk loads the site in scripts/bench-webhooks.sh
  phpunit chromium chromium-driver wrk
  # PHP 8.4 tests in a Debian 13 chroot (scripts/test-php84.sh); Debian 13's WordPress 6.8 is
  # fetched with apt itself (scripts/wordpress-6.8.sh), the keys come with debian-archive-keyring
  debootstrap debian-archive-keyring
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
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
