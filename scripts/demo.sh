#!/usr/bin/env bash
# The demo: builds wpf-bridge, brings up a local WordPress with the plugin and a fake CRM on
# 127.0.0.1, sends sample Mautic and User.com webhooks over real HTTP, prints what happened,
# and leaves the site running. It has its own state dir and ports, so it never disturbs the
# end-to-end tests. Stop it with: WPF_E2E_DIR=.demo tests/e2e/env/down.sh
# Usage: scripts/demo.sh [--fresh]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export WPF_E2E_DIR=${WPF_DEMO_DIR:-$(tests/e2e/env/state-dir.sh demo)}
export WPF_E2E_PORT=${WPF_DEMO_PORT:-8080}
export WPF_E2E_CRM_PORT=${WPF_DEMO_CRM_PORT:-8081}
export WPF_E2E_DB_PORT=${WPF_DEMO_DB_PORT:-8082}
# One PHP server is enough for the demo (the e2e env's second one is for the queue's tests).
export WPF_E2E_PORT2=0

bash scripts/install-deps.sh
echo "Building the extension and the fake CRM..."
cargo build --release --quiet -p wpf-bridge -p fake-crm
# A fresh site each run, so the webhooks create their users again (pass --restart etc. to override).
bash tests/e2e/env/up.sh "${@:---fresh}"
# shellcheck disable=SC1091
source "$WPF_E2E_DIR/env.sh"
wp() { bash tests/e2e/env/wp.sh "$@"; }
crm() { curl -fsS -m 10 -X POST -H 'Content-Type: application/json' --data "$2" "$WPF_E2E_CRM_CONTROL_URL$1" >/dev/null; }
pretty() { php -r 'echo json_encode(json_decode(stream_get_contents(STDIN)), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";' | sed 's/^/    /'; }
webhook() { # webhook <query> [body file]
  local body=${2:-/dev/null}
  echo
  echo "  POST /?${1//access_key=$key/access_key=…}"
  curl -sS -m 30 -o "$tmp" -w '    HTTP %{http_code}\n' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$body" "$WPF_E2E_URL/?$1"
  pretty <"$tmp"
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

echo
echo "Seeding the fake CRM: Mautic contacts 201 (Grace Hopper) and 101-103, User.com user 7 (John Doe)."
crm reset '{}'
crm mautic/contacts '{"id":201,"fields":{"all":{"id":201,"email":"grace@example.com","firstname":"Grace","lastname":"Hopper"}},"tags":[{"id":1,"tag":"customer"},{"id":2,"tag":"newsletter"}]}'
for id in 101 102 103; do
  crm mautic/contacts "{\"id\":$id,\"fields\":{\"all\":{\"id\":$id,\"email\":\"contact$((id - 100))@email.com\"}},\"tags\":[]}"
done
crm userengage/users '{"id":7,"name":"John Doe","email":"johndoe@example.org","tags":[{"id":9,"name":"Add User to WP"}]}'

echo
echo "1. Mautic: add contact 201 as a customer, with the welcome email (the CRM API is asked for the contact)."
key=$(wp "$repo/scripts/demo.php" configure mautic)
webhook "wpf_action=add&access_key=$key&contact_id=201&role=customer&send_notification=true"

echo
echo "2. Mautic: a queued batch of three identified contacts (the payload carries them: no API call)."
webhook "wpf_action=add&access_key=$key" tests/fixtures/mautic/02_contact_identified_batch_of_3.wire.json

echo
echo "3. Mautic: a request with a wrong access key is refused and changes nothing."
webhook "wpf_action=add&access_key=wrong&contact_id=201"

echo
echo "4. User.com: the \"API call\" automation adds user 7."
wp "$repo/scripts/demo.php" configure userengage >/dev/null
webhook "wpf_action=add&access_key=$key" tests/fixtures/userengage/01_api_call_body_confirmed_keys.json
# Queued events are applied with the CRM configured when they are drained: wait before switching back.
wp "$repo/scripts/demo.php" drained >/dev/null
wp "$repo/scripts/demo.php" configure mautic >/dev/null

echo
echo "Each accepted webhook was answered at once (\"queued\"); the request that took the drain"
echo "lease applied the events after its answer had left. The queue, once drained:"
wp "$repo/scripts/demo.php" drained

echo
echo "What happened in WordPress:"
wp "$repo/scripts/demo.php" report
mails=$(find "$WPF_E2E_MAIL_DIR" -name '*.json' 2>/dev/null | wc -l)
echo "  Captured emails (welcome emails and WordPress's notices): $mails, in $WPF_E2E_MAIL_DIR"

cat <<EOT

The site keeps running:
  site         $WPF_E2E_URL/
  admin        $WPF_E2E_URL/wp-admin/options-general.php?page=wpf-bridge
  login        $WPF_E2E_ADMIN_USER / $(cat "$WPF_E2E_ADMIN_PASSWORD_FILE")
  webhooks     $WPF_E2E_URL/wp-admin/tools.php?page=wpf-bridge-webhooks
  fake CRM     $WPF_E2E_CRM_CONTROL_URL (GET requests shows what the CRM received)
Stop it with:  WPF_E2E_DIR=$WPF_E2E_DIR tests/e2e/env/down.sh
EOT
