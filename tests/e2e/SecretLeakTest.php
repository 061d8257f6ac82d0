<?php
// Secrets never leak (DESIGN.md, rule 3): the access key, generated passwords and the CRM
// credentials must not appear in any webhook answer, in the webhook log (table and page),
// in wp-debug.log nor in PHP's error log.
//
// Runs last in phpunit.xml, so it also scans every webhook answer the classes before it
// received (kept by Http) and the log entries they wrote. It sends its own webhooks first
// (a created user with a returned password, refusals, CRM failures), so run alone it still
// has leaks to look for.
final class SecretLeakTest extends E2eTestCase
{
    public static function setUpBeforeClass(): void
    {
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'send_welcome_email' => true,
        ]));
        FakeCrm::reset();
    }

    /** Webhooks whose answers and log entries could carry a secret if the code were careless. */
    private function sendRiskyWebhooks(): void
    {
        $contact = 600 + random_int(0, 99999);
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, "leak-$contact@example.com", 'Leak', 'Check', ['t']));
        $created = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $contact, 'role' => 'customer', 'send_notification' => 'true']), '');
        $results = $this->assertWebhookSucceeded($created, 'add', 'mautic');
        $this->assertSame('created', $results[0]['outcome'], $created->describe());
        $this->assertTrue($results[0]['password_returned'] ?? false, $created->describe());
        $password = (string) (FakeCrm::mauticContact($contact)['fields']['all']['wp_password'] ?? '');
        $this->assertNotSame('', $password, 'no password was returned to the CRM');
        self::rememberPassword($password);

        // The CRM refuses our credentials, then fails: the answers explain without quoting them
        // (200: the events stay queued and the site retries them).
        foreach ([[401, 'crm_auth_failed', 1], [500, 'crm_unavailable', 2]] as [$status, $code, $offset]) {
            FakeCrm::control('POST', 'fail', ['status' => $status, 'count' => 1]);
            $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) ($contact + $offset)]), '');
            $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
            $this->assertSame(['retrying', $code], [$results[0]['outcome'], $results[0]['code'] ?? null], $response->describe());
        }

        // Refusals: a key one character off, a broken body.
        $this->assertWebhookError(self::postJson(self::webhookUrl('update', [], WordPress::accessKey() . 'x'), '{}'), 403, 'invalid_access_key');
        $this->assertWebhookError(self::postJson(self::webhookUrl('update'), '{"x":'), 400, 'invalid_json');
        $this->assertSame(200, self::postJson(self::webhookUrl('test'), '')->status);
    }

    /** @return array<string, string> name => secret value */
    private function secrets(): array
    {
        $secrets = [
            'access key' => WordPress::accessKey(),
            'Mautic password' => Env::get('WPF_E2E_MAUTIC_PASSWORD'),
            'Mautic token' => Env::get('WPF_E2E_MAUTIC_TOKEN'),
            'User.com API key' => Env::get('WPF_E2E_USERENGAGE_KEY'),
            'Mautic basic auth header' => base64_encode(Env::get('WPF_E2E_MAUTIC_USER') . ':' . Env::get('WPF_E2E_MAUTIC_PASSWORD')),
            'webhook secret' => 'any_secret_will_do',
            'admin password' => Env::adminPassword(),
        ];
        foreach (array_unique(self::$generatedPasswords) as $i => $password) {
            $secrets["generated password #$i"] = $password;
        }
        foreach ($secrets as $name => $value) {
            $this->assertGreaterThanOrEqual(8, strlen($value), "$name is too short to search for");
        }
        return $secrets;
    }

    /** Fails when any form of a secret (raw, JSON-escaped, URL-encoded) appears in $text. */
    private function assertNoSecretIn(string $where, string $text, array $secrets): void
    {
        foreach ($secrets as $name => $secret) {
            foreach (array_unique([$secret, trim((string) json_encode($secret), '"'), rawurlencode($secret), urlencode($secret)]) as $form) {
                $at = strpos($text, $form);
                $this->assertFalse($at, sprintf("the %s appears in %s: ...%s...", $name, $where,
                    $at === false ? '' : str_replace($form, '[' . strtoupper($name) . ']', substr($text, max(0, $at - 200), 400 + strlen($form)))));
            }
        }
    }

    public function test_no_secret_in_webhook_answers_logs_or_the_webhooks_page(): void
    {
        $this->sendRiskyWebhooks();
        $secrets = $this->secrets();

        // Every webhook answer of this run.
        $answers = Http::$webhookResponses;
        $this->assertGreaterThanOrEqual(6, count($answers));
        $returned = 0;
        foreach ($answers as $i => $answer) {
            $headers = '';
            foreach ($answer->headers as $name => $values) {
                $headers .= "$name: " . implode(', ', $values) . "\n";
            }
            $this->assertNoSecretIn("answer #$i (" . Http::redact($answer->url) . ')', $headers . "\n" . $answer->body, $secrets);
            $returned += substr_count($answer->body, '"password_returned":true');
        }
        $this->assertGreaterThan(0, $returned, 'no scanned answer returned a password: the scan proves little');

        // The webhook log table, every column of every row.
        $rows = WordPress::query('SELECT * FROM ' . WordPress::table('wpf_bridge_log'));
        $this->assertNotEmpty($rows, 'the webhook log is empty');
        $this->assertNoSecretIn('the wpf_bridge_log table', implode("\n", array_map(static fn (array $r): string => implode("\t", $r), $rows)), $secrets);

        // The queue table (issue 10), every column of every row (QueueStorageTest leaves rows).
        $rows = WordPress::query('SELECT * FROM ' . WordPress::table('wpf_bridge_queue'));
        $this->assertNoSecretIn('the wpf_bridge_queue table', implode("\n", array_map(static fn (array $r): string => implode("\t", $r), $rows)), $secrets);

        // The webhooks page as the admin sees it: the queued events, the refused requests and the
        // other requests the log keeps (the CRM's auth failure is in one of them).
        $pages = '';
        foreach (['', 'refused', 'unstored'] as $view) {
            $page = $this->adminPage('/wp-admin/tools.php?page=wpf-bridge-webhooks&state=' . $view);
            $this->assertStringContainsString($view === '' ? 'id="wpf-bridge-events"' : 'id="wpf-bridge-requests"', $page);
            $this->assertNoSecretIn("the webhooks page ($view)", $page, $secrets);
            $pages .= $page;
        }
        $this->assertStringContainsString('crm_auth_failed', $pages, 'the webhooks page does not show the newest entries');

        // WordPress's debug log and PHP's error log.
        foreach (['WPF_E2E_WP_DEBUG_LOG', 'WPF_E2E_PHP_ERROR_LOG'] as $log) {
            $file = Env::get($log);
            $this->assertFileIsReadable($file);
            $this->assertNoSecretIn(basename($file), (string) file_get_contents($file), $secrets);
        }
    }

    /** An admin page's HTML, through a real login with curl. */
    private function adminPage(string $path): string
    {
        $client = Http::withCookies();
        $client->get(Env::url() . '/wp-login.php');
        $login = $client->postForm(Env::url() . '/wp-login.php', [
            'log' => Env::get('WPF_E2E_ADMIN_USER'),
            'pwd' => Env::adminPassword(),
            'wp-submit' => 'Log In',
            'redirect_to' => Env::url() . $path,
            'testcookie' => '1',
        ]);
        $this->assertSame(302, $login->status, 'the admin could not log in');
        $page = $client->get(Env::url() . $path);
        $this->assertSame(200, $page->status);
        return $page->body;
    }
}
