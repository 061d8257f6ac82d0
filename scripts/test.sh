#!/usr/bin/env bash
# Every test suite of wpf-bridge, from a fresh Debian 12 machine: installs the packages, checks
# formatting and lints, runs the Rust tests, checks the stubs, runs the PHPUnit suite against
# the built extension, builds the release artifacts (scripts/package.sh: both .debs, lintian,
# the plugin zip and its rules, SHA256SUMS) and proves the zip check catches what it should,
# installs each .deb with apt into a clean chroot of its Debian release
# (scripts/test-packages.sh), runs the end-to-end suite against a real WordPress on 127.0.0.1
# (Debian 12's 6.1; Debian 13's 6.8 built from the artifacts in dist/; a 6.8 multisite
# network), and the Rust and PHPUnit suites again against Debian 13's PHP 8.4 in a chroot.
# Each suite's time is printed. --no-php84 leaves out everything of PHP 8.4 (its package too).
# Usage: scripts/test.sh [--no-e2e] [--no-php84]
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
run() {
  local name=$1 start=$SECONDS
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED in $((SECONDS - start)) s"
  fi
}
e2e=1 php84=1
for arg in "$@"; do
  case "$arg" in
    --no-e2e) e2e=0 ;;
    --no-php84) php84=0 ;;
    *) echo "usage: scripts/test.sh [--no-e2e] [--no-php84]" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh || { echo "installing packages failed"; exit 1; }
export CARGO_TERM_COLOR=never

run "format" cargo fmt --all --check
run "clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
run "build" cargo build --release --workspace --quiet
run "php lint" bash tests/php-plugin-lint.sh target/release/libwpf_bridge.so
run "rust tests" cargo test --workspace --quiet
run "stubs" bash scripts/stubs.sh --check
run "phpunit (extension)" bash scripts/test-php.sh
if [ "$php84" = 1 ]; then
  run "package (scripts/package.sh)" bash scripts/package.sh
  run "packages installed with apt in bookworm and trixie chroots" bash scripts/test-packages.sh
else
  run "package (scripts/package.sh --no-php84)" bash scripts/package.sh --no-php84
  run "packages installed with apt in a bookworm chroot" bash scripts/test-packages.sh bookworm
fi
run "plugin zip check catches broken zips" bash tests/check-plugin-zip-selftest.sh dist/wpf-bridge-"$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)".zip
if [ "$e2e" = 1 ]; then
  run "end to end (WordPress 6.1)" bash scripts/test-e2e.sh
  run "end to end (WordPress 6.8, the site built from dist/)" env WPF_E2E_WP=6.8 WPF_E2E_FROM_DIST=1 bash scripts/test-e2e.sh
  run "end to end (WordPress 6.8 multisite)" env WPF_E2E_WP=6.8 WPF_E2E_MULTISITE=1 bash scripts/test-e2e.sh
fi
if [ "$php84" = 1 ]; then
  run "PHP 8.4 (Debian 13 chroot)" bash scripts/test-php84.sh
fi

echo
if [ "$failed" -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
