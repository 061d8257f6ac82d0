#!/usr/bin/env bash
# Runs the PHPUnit suite in tests/php/ against the release build of the extension, loaded
# into Debian's PHP CLI with -d extension (nothing in /etc/php is touched).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p wpf-bridge -p fake-crm
exec php -d "extension=$PWD/target/release/libwpf_bridge.so" -d memory_limit=512M \
  /usr/bin/phpunit -c tests/php/phpunit.xml "$@"
