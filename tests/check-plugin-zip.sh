#!/usr/bin/env bash
# Re-applies WordPress's plugin rules to the plugin zip (what Plugin Check's file_type,
# plugin_header_fields and plugin_readme checks and the directory's guidelines ask), since
# Plugin Check itself is not reachable from here:
#   - one top folder, wpf-bridge/, holding the main file wpf-bridge.php with its header;
#   - readme.txt in WordPress.org's format: the headers (Requires at least, Tested up to,
#     Requires PHP, Stable tag, License, ...), a short description of at most 150 characters,
#     the sections Description, Installation, Frequently Asked Questions and Changelog, a
#     changelog entry and Stable tag for this version, the same requirements as the main file;
#   - Requires PHP is the lowest PHP a Debian package is made for (Cargo.toml's variants);
#   - languages/wpf-bridge.pot holds every string of the code's translation calls;
#   - uninstall.php checks WP_UNINSTALL_PLUGIN;
#   - nothing a plugin directory refuses: application files (.so, .sh, .exe, .phar, ...),
#     archives (.zip, .gz, .tar, ...), hidden files or folders, VCS folders, Markdown in the
#     plugin's root, names with spaces or odd characters;
#   - every PHP file passes `php -l`, and no code installs or downloads code.
# Prints each broken rule and exits 1 when there is one.
#   tests/check-plugin-zip.sh dist/wpf-bridge-0.1.0.zip
set -uo pipefail
cd "$(dirname "$0")/.."
zip="${1:?usage: tests/check-plugin-zip.sh PLUGIN.zip}"
[ -f "$zip" ] || { echo "zip: $zip does not exist"; exit 1; }
errors=0
bad() { echo "zip: $*"; errors=$((errors + 1)); }

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
unzip -q "$zip" -d "$dir" || { echo "zip: $zip does not unzip"; exit 1; }
mapfile -t entries < <(unzip -Z1 "$zip")
[ "${#entries[@]}" -gt 0 ] || bad "empty"

# ---- layout and file types -----------------------------------------------------------
for e in "${entries[@]}"; do
  case "$e" in wpf-bridge/*) ;; *) bad "$e is outside the top folder wpf-bridge/" ;; esac
  rel="${e#wpf-bridge/}"
  name="${rel%/}"; name="${name##*/}"
  [ -z "$rel" ] && continue
  case "/$rel" in */.*) bad "$e: hidden files and folders are not permitted" ;; esac
  case "/$rel/" in */CVS/*|*/.svn/*|*/.git/*|*/.hg/*|*/.bzr/*) bad "$e: version control folders are not permitted" ;; esac
  [[ "$rel" =~ ^[A-Za-z0-9._/-]+$ ]] || bad "$e: file names may only hold letters, digits, '.', '_' and '-'"
  ext="${name##*.}"; [ "$ext" = "$name" ] && ext=""
  ext="${ext,,}"
  case "$ext" in
    a|bin|bpk|deploy|dist|distz|dmg|dms|dump|elc|exe|iso|lha|lrf|lzh|o|obj|phar|pkg|sh|so)
      bad "$e: application files are not permitted" ;;
    zip|gz|tgz|rar|tar|7z) bad "$e: compressed files are not permitted" ;;
  esac
  if [[ "$rel" != */* ]] && [ "$ext" = md ]; then bad "$e: Markdown files are not permitted in the plugin's root"; fi
done
p="$dir/wpf-bridge"
for f in wpf-bridge.php readme.txt uninstall.php languages/wpf-bridge.pot; do
  [ -f "$p/$f" ] || bad "wpf-bridge/$f is missing"
done
if [ ! -f "$p/wpf-bridge.php" ]; then
  echo "zip: $zip breaks $errors rule(s)"
  exit 1
fi

# ---- the main file's header and readme.txt ------------------------------------------------
header() { sed -n "s/^[ \t\/*#@]*$2:[ \t]*\(.*[^ \t]\)[ \t]*\$/\1/p" "$1" | head -n1; }
version="$(header "$p/wpf-bridge.php" Version)"
for h in "Plugin Name" Version "Requires at least" "Requires PHP" License "Text Domain"; do
  [ -n "$(header "$p/wpf-bridge.php" "$h")" ] || bad "wpf-bridge.php: header '$h' is missing"
done
[ "$(header "$p/wpf-bridge.php" "Text Domain")" = wpf-bridge ] || bad "wpf-bridge.php: Text Domain must be wpf-bridge"
readme="$p/readme.txt"
if [ -f "$readme" ]; then
  head -n1 "$readme" | grep -qE '^=== .+ ===$' || bad "readme.txt: the first line must be '=== Plugin Name ==='"
  for h in Contributors Tags "Requires at least" "Tested up to" "Requires PHP" "Stable tag" License "License URI"; do
    grep -qE "^$h: *[^ ]" "$readme" || bad "readme.txt: header '$h' is missing"
  done
  [ "$(header "$readme" "Stable tag")" = "$version" ] || bad "readme.txt: Stable tag '$(header "$readme" "Stable tag")' is not the plugin's version $version"
  for h in "Requires at least" "Requires PHP"; do
    [ "$(header "$readme" "$h")" = "$(header "$p/wpf-bridge.php" "$h")" ] \
      || bad "readme.txt: '$h' ($(header "$readme" "$h")) differs from wpf-bridge.php's ($(header "$p/wpf-bridge.php" "$h"))"
  done
  # The short description: the first paragraph after the header block.
  short="$(awk 'NR > 1 && /^$/ { blank = 1; next } blank && /^==/ { exit } blank { print; exit }' "$readme")"
  [ -n "$short" ] || bad "readme.txt: the short description (after the headers) is missing"
  [ "${#short}" -le 150 ] || bad "readme.txt: the short description has ${#short} characters (at most 150)"
  for s in Description Installation "Frequently Asked Questions" Changelog; do
    grep -qx "== $s ==" "$readme" || bad "readme.txt: section '== $s ==' is missing"
  done
  grep -qx "= $version =" "$readme" || bad "readme.txt: the Changelog has no entry '= $version ='"
fi
# The lowest PHP a package is made for (Cargo.toml: name = "php8.2-wpf-bridge", ...).
lowest="$(sed -n 's/^name = "php\([0-9]*\.[0-9]*\)-wpf-bridge"$/\1/p' Cargo.toml | sort -V | head -n1)"
[ -n "$lowest" ] || bad "Cargo.toml names no php<ver>-wpf-bridge package"
[ "$(header "$p/wpf-bridge.php" "Requires PHP")" = "$lowest" ] \
  || bad "wpf-bridge.php: Requires PHP is '$(header "$p/wpf-bridge.php" "Requires PHP")', the lowest packaged PHP is $lowest"
# The plugin's list of packaged PHP versions (its install command) is Cargo.toml's.
packaged="$(sed -n 's/^name = "php\([0-9]*\.[0-9]*\)-wpf-bridge"$/\1/p' Cargo.toml | sort -V | tr '\n' ' ')"
listed="$(awk '/PACKAGED_PHP = array\(/ { on = 1; next } on && /\);/ { exit } on' "$p/includes/class-extension.php" \
  | sed -n "s/^[[:space:]]*'\([0-9.]*\)' => .*/\1/p" | sort -V | tr '\n' ' ')"
[ "$packaged" = "$listed" ] || bad "includes/class-extension.php: PACKAGED_PHP lists '$listed', Cargo.toml packages '$packaged'"

# ---- PHP files ----------------------------------------------------------------------------
while IFS= read -r -d '' f; do
  out="$(php -n -l "$f" 2>&1)" || bad "${f#"$dir"/}: $out"
  if grep -nE '\b(download_url|unzip_file|install_plugin_install_status)\s*\(|\b(Plugin_Upgrader|WP_Upgrader|Theme_Upgrader)\b' "$f" >/dev/null; then
    bad "${f#"$dir"/}: installs or downloads code"
  fi
done < <(find "$p" -name '*.php' -print0)
if [ -f "$p/uninstall.php" ]; then
  grep -q "WP_UNINSTALL_PLUGIN" "$p/uninstall.php" || bad "uninstall.php does not check WP_UNINSTALL_PLUGIN"
fi

# ---- the translation template -----------------------------------------------------------------
pot="$p/languages/wpf-bridge.pot"
if [ -f "$pot" ]; then
  grep -q '^"X-Domain: wpf-bridge\\n"$' "$pot" || bad "languages/wpf-bridge.pot: no X-Domain: wpf-bridge header"
  # Every single-quoted first argument of a translation call, found by PHP's own tokenizer,
  # must be a msgid of the template.
  missing="$(php -n -d extension=tokenizer tests/pot-coverage.php "$pot" $(find "$p" -name '*.php'))"
  [ -z "$missing" ] || bad "languages/wpf-bridge.pot lacks strings of the code:
$missing"
fi

if [ "$errors" -gt 0 ]; then
  echo "zip: $zip breaks $errors rule(s)"
  exit 1
fi
echo "zip: $zip follows the plugin rules (${#entries[@]} entries)"
