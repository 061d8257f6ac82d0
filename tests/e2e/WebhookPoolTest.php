<?php
// The webhook pool the plugin ships (php/server/: a php-fpm pool file and an nginx snippet;
// README "Keeping visitors fast during CRM storms") on the real nginx and php-fpm: up.sh again
// with WPF_E2E_WEBHOOK_POOL=2, which makes the stack's second pool and its routing from those
// very files (only the socket paths, the user and the number of workers set for this
// machine). Then:
//   - requests with a `wpf_action` or `wpf_bridge_handover` query argument are run by the
//     webhook pool, every other request (the front page, wp-login.php) by the site's pool;
//     the evidence is each pool's own counter of accepted requests (php-fpm's status page of
//     each pool) and, per request, the pool php-fpm names to the PHP that ran it
//     (fpm_get_status()['pool'], sent back as a header by a must-use plugin this class installs);
//   - the webhook pool's workers run at the shipped nice value;
//   - a webhook is answered and applied as when the site's one pool runs it: the same update
//     through the second PHP server (one pool, no routing) gives the same answer and the same
//     user; a background one is queued and applied by the drain that runs in the webhook pool.
// tearDownAfterClass puts the stack back as the run had it (up.sh with the option off).
final class WebhookPoolTest extends E2eTestCase
{
    private const WORKERS = 2;
    private const POOL_HEADER = 'X-Wpf-E2e-Pool';

    private static array $original = [];
    private static string $probe = '';

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        Env::up(['WPF_E2E_WEBHOOK_POOL' => (string) self::WORKERS]);
        // Loaded first (mu-plugins load in name order): the pool that runs this request.
        self::$probe = Env::get('WPF_E2E_WP_DIR') . '/wp-content/mu-plugins/0-wpf-e2e-pool.php';
        file_put_contents(self::$probe, "<?php\n// Written by tests/e2e/WebhookPoolTest.php: which php-fpm pool ran this request.\n"
            . "if ( function_exists( 'fpm_get_status' ) && ! headers_sent() ) {\n\t\$wpf_e2e_fpm = fpm_get_status();\n"
            . "\theader( '" . self::POOL_HEADER . ": ' . ( is_array( \$wpf_e2e_fpm ) ? \$wpf_e2e_fpm['pool'] : 'unknown' ) );\n}\n");
        chmod(self::$probe, 0644);
        WordPress::deleteAllUsersButAdmin();
    }

    public static function tearDownAfterClass(): void
    {
        @unlink(self::$probe);
        Env::up(['WPF_E2E_WEBHOOK_POOL' => '0']);
        WordPress::php('WPF_Bridge_Settings::save( $args ); return true;', self::$original);
        FakeCrm::reset();
        QueueTable::reset();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        QueueTable::reset();
    }

    public function test_webhooks_and_hand_overs_are_run_by_the_webhook_pool_and_the_rest_by_the_sites(): void
    {
        $this->assertSame((string) self::WORKERS, Env::get('WPF_E2E_WEBHOOK_POOL'));
        $site = self::status('/fpm-status');
        $webhooks = self::status('/fpm-webhooks-status');
        $this->assertSame('wpf-e2e', $site['pool']);
        $this->assertSame('wpf-bridge-webhooks', $webhooks['pool'], 'the webhook pool is not the shipped one');
        $this->assertSame(self::WORKERS, $webhooks['total processes']);
        foreach (self::poolPids('wpf-bridge-webhooks') as $pid) {
            $this->assertSame(10, self::nice($pid), "webhook worker $pid does not run at the shipped process.priority");
        }
        foreach (self::poolPids('wpf-e2e') as $pid) {
            $this->assertSame(0, self::nice($pid), "site worker $pid");
        }

        $http = new Http();
        $siteRequests = [
            $http->get(Env::url() . '/'),
            $http->get(Env::url() . '/?s=pool'),
            $http->get(Env::url() . '/wp-login.php'),
        ];
        $webhookRequests = [
            // A refused webhook (its answer comes from the plugin, in the webhook pool).
            $http->get(self::webhookUrl('test', [], 'not-the-key')),
            self::postJson(self::webhookUrl('test'), ''),
            // The drain's hand-over loopback (an unknown token: answered as the front page).
            $http->get(Env::url() . '/?wpf_bridge_handover=' . bin2hex(random_bytes(16))),
        ];
        $siteAfter = self::status('/fpm-status');
        $webhooksAfter = self::status('/fpm-webhooks-status');

        foreach ($siteRequests as $response) {
            $this->assertSame(200, $response->status, $response->describe());
            $this->assertSame('wpf-e2e', $response->header(self::POOL_HEADER), $response->describe());
        }
        $this->assertSame(403, $webhookRequests[0]->status, $webhookRequests[0]->describe());
        $this->assertSame('invalid_access_key', $webhookRequests[0]->json()['code'] ?? null);
        $this->assertSame(200, $webhookRequests[1]->status, $webhookRequests[1]->describe());
        $this->assertTrue($webhookRequests[1]->json()['success'] ?? null, $webhookRequests[1]->describe());
        $this->assertSame(200, $webhookRequests[2]->status, $webhookRequests[2]->describe());
        foreach ($webhookRequests as $response) {
            $this->assertSame('wpf-bridge-webhooks', $response->header(self::POOL_HEADER), $response->describe());
        }
        // Each pool's accepted requests: the ones above, and its own status page read after them.
        $this->assertSame(count($siteRequests) + 1, $siteAfter['accepted conn'] - $site['accepted conn'], 'requests the site pool accepted');
        $this->assertSame(count($webhookRequests) + 1, $webhooksAfter['accepted conn'] - $webhooks['accepted conn'], 'requests the webhook pool accepted');
    }

    public function test_a_webhook_is_answered_and_applied_as_when_the_sites_pool_runs_it(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', ['return_password' => false, 'return_password_field' => '']));
        $users = [];
        foreach ([94001, 94002] as $contact) {
            $users[$contact] = WordPress::createUser("pool$contact", "pool$contact@example.com", ['first_name' => 'Before'], ['mautic_contact_id' => (string) $contact]);
        }
        $body = static fn (int $contact): string => self::mauticUpdate($contact, 'After', ['pooled']);
        // The second PHP server is one pool with no routing: the setup without the webhook pool.
        $direct = self::postJson(Env::get('WPF_E2E_URL2') . '/?' . http_build_query(['wpf_action' => 'update', 'access_key' => WordPress::accessKey()]), $body(94002));
        $pooled = self::postJson(self::webhookUrl('update'), $body(94001));
        $this->assertSame('wpf-bridge-webhooks', $pooled->header(self::POOL_HEADER), $pooled->describe());
        $this->assertSame('wpf-e2e2', $direct->header(self::POOL_HEADER), $direct->describe());
        $results = $this->assertWebhookSucceeded($pooled, 'update', 'mautic');
        $this->assertSame('updated', $results[0]['outcome'] ?? null, $pooled->describe());
        $this->assertSame($users[94001], $results[0]['user_id'] ?? null, $pooled->describe());
        $this->assertSame($direct->status, $pooled->status);
        $this->assertSame(self::withoutContact($direct->json(), 94002, $users[94002]), self::withoutContact($pooled->json(), 94001, $users[94001]),
            'the answer through the webhook pool differs from the one through one pool');
        $this->assertSame($direct->header('content-type'), $pooled->header('content-type'));
        foreach ($users as $contact => $id) {
            $user = WordPress::user($id);
            $this->assertSame('After', $user['first_name'], "contact $contact");
            $this->assertSameTags(['pooled'], $user['meta']['mautic_tags'] ?? null, "contact $contact");
        }

        // Background: queued by the webhook pool, applied by the drain that runs there.
        WordPress::configure(['processing' => 'background']);
        $queued = self::postJson(self::webhookUrl('update'), self::mauticUpdate(94001, 'Queued', ['queued']));
        $this->assertSame('wpf-bridge-webhooks', $queued->header(self::POOL_HEADER), $queued->describe());
        $this->assertSame(200, $queued->status, $queued->describe());
        $this->assertSame(['94001'], array_map(static fn (array $q): string => (string) $q['contact_id'], $queued->json()['queued'] ?? []), $queued->describe());
        $deadline = microtime(true) + 15;
        while (WordPress::user($users[94001])['first_name'] !== 'Queued' && microtime(true) < $deadline) {
            usleep(200000);
        }
        $this->assertSame('Queued', WordPress::user($users[94001])['first_name'], 'the queued update was not applied: ' . json_encode(QueueTable::counts()));
        $id = (int) $queued->json()['queued'][0]['id'];
        $this->assertSame('done', QueueTable::rows([$id])[$id]['state'] ?? null, 'the queued event was not settled done');
        $this->assertSame(['done' => 3], array_map('intval', QueueTable::counts()), 'the two immediate updates and the queued one');
        $this->assertSame([], FakeCrm::requests(), 'the updates carried their data: no CRM call');
    }

    // ---- helpers -------------------------------------------------------------------------

    private static function mauticUpdate(int $contact, string $first, array $tags): string
    {
        return json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => "pool$contact@example.com"],
                'firstname' => ['alias' => 'firstname', 'value' => $first],
            ]], 'tags' => array_map(static fn (string $tag): array => ['tag' => $tag], $tags)],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00'),
        ]]]);
    }

    /** An answer with its contact's own values (contact id, user id, email, queue row id) replaced by placeholders. */
    private static function withoutContact(array $answer, int $contact, int $user): array
    {
        foreach ($answer['results'] ?? [] as $i => $result) {
            if (is_int($result['id'] ?? null)) {
                $answer['results'][$i]['id'] = 'ROW';
            }
        }
        $text = json_encode($answer);
        $text = str_replace(['"' . $contact . '"', (string) $contact, "pool$contact@example.com", '"user_id":' . $user], ['"CONTACT"', 'CONTACT', 'EMAIL', '"user_id":"USER"'], $text);
        return json_decode($text, true);
    }

    /** A pool's status page (JSON), served by that pool. */
    private static function status(string $path): array
    {
        $response = (new Http())->get(Env::url() . $path . '?json');
        if ($response->status !== 200) {
            throw new RuntimeException("$path answered {$response->status}");
        }
        return $response->json();
    }

    /** The pids of the workers of the pool $pool under the stack's php-fpm master (at least one). */
    private static function poolPids(string $pool): array
    {
        $pids = Fpm::poolWorkers((int) Env::get('WPF_E2E_PHP_FPM_PID'), $pool);
        if ($pids === []) {
            throw new RuntimeException("no worker of pool $pool under the php-fpm master");
        }
        return $pids;
    }

    /** A process's nice value (/proc/PID/stat, field 19). */
    private static function nice(int $pid): int
    {
        $stat = (string) file_get_contents("/proc/$pid/stat");
        $fields = explode(' ', substr($stat, (int) strrpos($stat, ')') + 2));
        return (int) $fields[16];
    }
}
