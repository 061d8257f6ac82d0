#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses (the URI of its first `deb` source
# for the main archive, not security or updates), e.g. for scripts/wordpress-6.8.sh and
# scripts/test-php84.sh, which fetch Debian 13 packages from that same mirror. The one place
# that decides it: no mirror host is written in the project's files. WPF_DEBIAN_MIRROR wins.
set -euo pipefail
if [ -n "${WPF_DEBIAN_MIRROR:-}" ]; then
  echo "${WPF_DEBIAN_MIRROR%/}"
  exit 0
fi
shopt -s nullglob
mirror=""
# deb822 .sources files: "URIs:" lines.
for f in /etc/apt/sources.list.d/*.sources; do
  mirror="$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" \
    | grep -E '^https?://' | grep -v -e security -e updates | grep -E '/debian/?$' | head -n1 || true)"
  [ -n "$mirror" ] && break
done
# One-line format: "deb [options] URI suite components".
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mirror="$(sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $2 }' \
      | grep -E '^https?://' | grep -v -e security | grep -E '/debian/?$' | head -n1 || true)"
    [ -n "$mirror" ] && break
  done
fi
[ -n "$mirror" ] || { echo "debian-mirror.sh: no Debian mirror in /etc/apt/sources.list*; set WPF_DEBIAN_MIRROR" >&2; exit 1; }
echo "${mirror%/}"
