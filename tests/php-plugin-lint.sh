#!/usr/bin/env bash
# Lints the WordPress plugin in php/: `php -l` on every PHP file, the header's Version equals
# WPF_BRIDGE_PLUGIN_VERSION, and, when an extension is given, that it reports the same version.
#   tests/php-plugin-lint.sh [path/to/libwpf_bridge.so]
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
while IFS= read -r -d '' file; do
  if ! out=$(php -n -l "$file" 2>&1); then
    echo "$out"
    status=1
  fi
done < <(find php -name '*.php' -print0)

header=$(sed -n 's/^ \* Version: *//p' php/wpf-bridge.php | head -1)
constant=$(sed -n "s/^define( 'WPF_BRIDGE_PLUGIN_VERSION', '\([^']*\)' );/\1/p" php/wpf-bridge.php)
if [ -z "$header" ] || [ "$header" != "$constant" ]; then
  echo "php/wpf-bridge.php: header Version '$header' differs from WPF_BRIDGE_PLUGIN_VERSION '$constant'"
  status=1
fi

if [ $# -ge 1 ]; then
  ext_version=$(php -n -d "extension=$(realpath "$1")" -r 'echo wpf_bridge_version();')
  if [ "$ext_version" != "$constant" ]; then
    echo "extension $1 is version '$ext_version', the plugin is '$constant'"
    status=1
  fi
fi

[ $status -eq 0 ] && echo "php-plugin-lint: ok (plugin $constant)"
exit $status
