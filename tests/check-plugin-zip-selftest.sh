#!/usr/bin/env bash
# Proves tests/check-plugin-zip.sh catches what it claims to: it passes the real zip, then each
# broken copy below must fail with the rule it breaks.
#   tests/check-plugin-zip-selftest.sh dist/wpf-bridge-0.1.0.zip
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
good="$(readlink -f "${1:?usage: tests/check-plugin-zip-selftest.sh PLUGIN.zip}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0 passes=0

out="$(bash tests/check-plugin-zip.sh "$good")" || { echo "FAIL: the real zip does not pass: $out"; exit 1; }

# broken NAME EXPECTED COMMAND: unzips the good zip, runs COMMAND in it, zips it again and
# expects the check to fail with EXPECTED in its output.
broken() {
  local name="$1" expected="$2" cmd="$3" dir="$work/$1"
  mkdir -p "$dir" && unzip -q "$good" -d "$dir"
  (cd "$dir" && eval "$cmd") || { echo "FAIL: $name: could not break the copy"; failures=$((failures + 1)); return; }
  (cd "$dir" && zip -q -r "$work/$name.zip" .)
  if out="$(bash "$REPO/tests/check-plugin-zip.sh" "$work/$name.zip")"; then
    echo "FAIL: $name: the check passed"; failures=$((failures + 1))
  elif ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: $name: expected '$expected', got: $out"; failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}
broken extension-so "application files are not permitted" 'touch wpf-bridge/bin/wpf_bridge.so'
broken script-sh "application files are not permitted" 'touch wpf-bridge/install.sh'
broken archive "compressed files are not permitted" 'touch wpf-bridge/assets/x.tar.gz'
broken hidden "hidden files and folders are not permitted" 'touch wpf-bridge/.editorconfig'
broken markdown "Markdown files are not permitted" 'touch wpf-bridge/README.md'
broken top-folder "outside the top folder" 'mv wpf-bridge plugin'
broken stable-tag "Stable tag" 'sed -i "s/^Stable tag: .*/Stable tag: 9.9.9/" wpf-bridge/readme.txt'
broken requires-php "Requires PHP" 'sed -i "s/^Requires PHP: .*/Requires PHP: 7.4/" wpf-bridge/readme.txt'
broken no-faq "Frequently Asked Questions" 'sed -i "/^== Frequently Asked Questions ==$/d" wpf-bridge/readme.txt'
broken pot-string "lacks strings of the code" 'sed -i "s/msgid \"Keep WPF Bridge.s key\"/msgid \"x\"/" wpf-bridge/languages/wpf-bridge.pot'
broken downloader "installs or downloads code" 'echo "<?php download_url( \"x\" );" >wpf-bridge/includes/x.php'
broken uninstall "uninstall.php is missing" 'rm wpf-bridge/uninstall.php'
echo "check-plugin-zip: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
