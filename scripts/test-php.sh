#!/usr/bin/env bash
# Runs the PHPUnit suite in tests/php/ against the release build of the extension, loaded
# into the PHP CLI with -d extension (nothing in /etc/php is touched). Honours
# CARGO_TARGET_DIR (scripts/test-php84.sh builds for PHP 8.4 in a target dir of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p wpf-bridge -p fake-crm
target="${CARGO_TARGET_DIR:-$PWD/target}"
export WPF_FAKE_CRM="${WPF_FAKE_CRM:-$target/release/fake-crm}"
exec php -d "extension=$target/release/libwpf_bridge.so" -d memory_limit=512M \
  "$(command -v phpunit)" -c tests/php/phpunit.xml "$@"
