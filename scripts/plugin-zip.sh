#!/usr/bin/env bash
# Makes the WordPress plugin zip from php/: one top folder wpf-bridge/, the plugin's files as
# they are in php/, plus languages/wpf-bridge.pot generated from the code by xgettext with
# WordPress's gettext keywords (what `wp i18n make-pot` extracts, without WP-CLI). Then checks
# the zip with tests/check-plugin-zip.sh (WordPress's plugin rules).
#   scripts/plugin-zip.sh dist/wpf-bridge-0.1.0.zip
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
out="${1:?usage: scripts/plugin-zip.sh OUT.zip}"
case "$out" in /*) ;; *) out="$REPO/$out" ;; esac
version="$(sed -n 's/^ \* Version: *//p' php/wpf-bridge.php | head -n1)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
plugin="$stage/wpf-bridge"
mkdir -p "$plugin"
# Only what git tracks in php/ (no editor or test leftovers).
git ls-files -z php | while IFS= read -r -d '' f; do
  mkdir -p "$plugin/$(dirname "${f#php/}")"
  cp -p "$f" "$plugin/${f#php/}"
done

# The translation template: every string passed to WordPress's translation functions.
mkdir -p "$plugin/languages"
(cd "$plugin" && find . -name '*.php' -print | LC_ALL=C sort | sed 's|^\./||' >"$stage/files")
(cd "$plugin" && xgettext --language=PHP --from-code=UTF-8 --files-from="$stage/files" \
  --output=languages/wpf-bridge.pot --sort-by-file --add-comments=translators: \
  --package-name="WPF Bridge" --package-version="$version" --msgid-bugs-address="https://github.com/wpf-bridge/wpf-bridge/issues" \
  --keyword --keyword=__ --keyword=_e --keyword=_x:1,2c --keyword=_ex:1,2c \
  --keyword=_n:1,2 --keyword=_nx:1,2,4c --keyword=_n_noop:1,2 --keyword=_nx_noop:1,2,3c \
  --keyword=esc_attr__ --keyword=esc_html__ --keyword=esc_attr_e --keyword=esc_html_e \
  --keyword=esc_attr_x:1,2c --keyword=esc_html_x:1,2c)
# xgettext leaves the template's header placeholders; WordPress's tools fill these two.
sed -i -e '1s/.*/# Translation template of WPF Bridge./' \
  -e "2s/.*/# Copyright (C) WPF Bridge contributors/" \
  -e 's/^"Content-Type: text\/plain; charset=CHARSET\\n"$/"Content-Type: text\/plain; charset=UTF-8\\n"/' \
  -e '/^"Project-Id-Version:/a "X-Domain: wpf-bridge\\n"' "$plugin/languages/wpf-bridge.pot"

find "$plugin" -type d -exec chmod 755 {} + && find "$plugin" -type f -exec chmod 644 {} +
rm -f "$out"
(cd "$stage" && zip -q -r -X "$out" wpf-bridge)
bash tests/check-plugin-zip.sh "$out"
