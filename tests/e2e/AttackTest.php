<?php
// The attacks of issue 8, replayed on the real WordPress: each test is one finding that once
// let a caller change a user it must not reach, flush the log, or make the site work without
// bound. Each asserts what the site must do instead.
final class AttackTest extends E2eTestCase
{
    private const SECRET = 'attack_test_secret';
    private const VICTIM_EMAIL = 'victim@site.example';

    private static int $victim;

    public static function setUpBeforeClass(): void
    {
        WordPress::addRole('customer', 'Customer');
        WordPress::addRole('legacy_boss', 'Legacy boss', ['read' => true, 'level_10' => true]);
        WordPress::addRole('user_lister', 'User lister', ['read' => true, 'list_users' => true]);
        WordPress::deleteAllUsersButAdmin();
        self::$victim = WordPress::createUser('victim', self::VICTIM_EMAIL, ['first_name' => 'Vic'], []);
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        // Each test starts from an untouched victim, whatever an earlier one did.
        WordPress::php('wp_update_user( array( "ID" => $args[0], "user_email" => $args[1], "first_name" => "Vic" ) ); delete_user_meta( $args[0], "mautic_contact_id" ); return true;', [self::$victim, self::VICTIM_EMAIL]);
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'return_password' => false,
            'return_password_field' => '',
            'allowed_roles' => [],
        ]));
    }

    /** One Mautic webhook item for contact $id with these core fields. */
    private static function item(int $id, array $fields, string $timestamp, array $tags = []): array
    {
        $core = [];
        foreach ($fields as $alias => $value) {
            $core[$alias] = ['alias' => $alias, 'value' => $value];
        }
        return [
            'contact' => ['id' => $id, 'fields' => ['core' => $core], 'tags' => array_map(static fn (string $t): array => ['tag' => $t], $tags)],
            'timestamp' => $timestamp,
        ];
    }

    private static function body(array $items, string $kind = 'mautic.lead_post_save_update'): string
    {
        return json_encode([$kind => $items], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    }

    private static function sign(string $body): array
    {
        return ['Webhook-Signature' => base64_encode(hash_hmac('sha256', $body, self::SECRET, true))];
    }

    private function assertVictimUntouched(string $what): void
    {
        $victim = WordPress::user(self::$victim);
        $this->assertSame(self::VICTIM_EMAIL, $victim['email'], "$what changed the victim's email");
        $this->assertArrayNotHasKey('mautic_contact_id', $victim['meta'], "$what linked the victim to a contact");
        $this->assertSame('Vic', $victim['first_name'], "$what wrote to the victim");
    }

    // Finding 1: the email parameter chose the user.

    public function test_f1_the_email_parameter_never_picks_the_user_to_update(): void
    {
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(301, 'attacker@evil.example', 'Eve', 'Attacker', []));
        $response = (new Http())->get(self::webhookUrl('update', ['contact_id' => '301', 'email' => self::VICTIM_EMAIL]));
        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('ignored', $results[0]['outcome'], $response->describe());
        $this->assertVictimUntouched('an update with the victim\'s email as a parameter');

        // The CRM contact has no email: the parameter is still not a way to a user.
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(302, '', 'Eve', 'NoEmail', []));
        $response = (new Http())->get(self::webhookUrl('update', ['contact_id' => '302', 'email' => self::VICTIM_EMAIL]));
        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('ignored', $results[0]['outcome'], $response->describe());
        $this->assertVictimUntouched('an update for a contact without email');
    }

    public function test_f1_the_email_parameter_is_ignored_with_a_webhook_secret(): void
    {
        WordPress::configure(['webhook_secret' => self::SECRET]);
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(303, '', 'Eve', 'NoEmail', []));
        $response = (new Http())->get(self::webhookUrl('update', ['contact_id' => '303', 'email' => self::VICTIM_EMAIL]));
        $this->assertSame(200, $response->status, $response->describe());
        $this->assertVictimUntouched('a parameter-only update with a secret set');
    }

    public function test_f1_add_never_takes_the_email_parameter(): void
    {
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(304, '', 'Eve', 'NoEmail', []));
        $users = WordPress::countUsers();
        $response = (new Http())->get(self::webhookUrl('add', ['contact_id' => '304', 'email' => 'fresh@site.example']));
        $this->assertWebhookError($response, 422, 'contact_without_email');
        $this->assertSame($users, WordPress::countUsers(), 'add created a user from the email parameter');
        $response = (new Http())->get(self::webhookUrl('add', ['contact_id' => '304', 'email' => self::VICTIM_EMAIL]));
        $this->assertWebhookError($response, 422, 'contact_without_email');
        $this->assertVictimUntouched('add with the victim\'s email as a parameter');
    }

    public function test_f1_url_parameters_cannot_point_a_signed_body_elsewhere(): void
    {
        WordPress::configure(['webhook_secret' => self::SECRET]);
        $other = WordPress::createUser('other305', 'other305@site.example', ['first_name' => 'Other'], ['mautic_contact_id' => '305']);
        // Contact 306 in the CRM has no email; the signed body is about contact 307.
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(306, '', 'Eve', 'NoEmail', []));
        $body = self::body([self::item(307, ['email' => 'signed307@site.example', 'firstname' => 'Signed'], '2030-01-01T00:00:00+00:00')]);
        foreach ([['contact_id' => '306', 'email' => self::VICTIM_EMAIL], ['contact_id' => '305'], ['email' => self::VICTIM_EMAIL]] as $params) {
            $response = self::postJson(self::webhookUrl('update', $params), $body, self::sign($body));
            $this->assertSame(200, $response->status, $response->describe());
            foreach ($response->json()['results'] ?? [] as $result) {
                $this->assertSame('307', (string) $result['contact_id'], 'the signed body decides the contact: ' . $response->describe());
            }
            $this->assertVictimUntouched('a signed body with ' . json_encode($params));
            $this->assertSame('Other', WordPress::user($other)['first_name'], 'a signed body was applied to the contact of a URL parameter');
        }
    }

    // Finding 2: look-alike emails matched through the collation.

    public function test_f2_look_alike_emails_neither_link_nor_get_written(): void
    {
        $lookAlike = 'victim@site.exämple';
        $body = self::body([self::item(310, ['email' => 'Victim@Site.Exämple', 'firstname' => 'Mallory'], '2030-01-01T00:00:00+00:00')]);
        $response = self::postJson(self::webhookUrl('update'), $body);
        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('ignored', $results[0]['outcome'], $response->describe());
        $this->assertNotEmpty($results[0]['notes'], 'the answer must say why the email was not used: ' . $response->describe());
        $this->assertVictimUntouched('a contact with a look-alike email');

        // A linked user is not given a look-alike email either.
        $linked = WordPress::createUser('linked311', 'linked311@site.example', [], ['mautic_contact_id' => '311']);
        $body = self::body([self::item(311, ['email' => 'linked311@site.exämple'], '2030-01-01T00:00:00+00:00')]);
        $response = self::postJson(self::webhookUrl('update'), $body);
        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('linked311@site.example', WordPress::user($linked)['email']);
        $this->assertNotEmpty(preg_grep('/email/', $results[0]['notes']), $response->describe());

        // add: no user is made from, or linked by, such an email.
        $users = WordPress::countUsers();
        $body = self::body([self::item(312, ['email' => $lookAlike], '2030-01-01T00:00:00+00:00')], 'mautic.lead_post_save_new');
        $response = self::postJson(self::webhookUrl('add'), $body);
        $this->assertSame(422, $response->status, $response->describe());
        $this->assertSame($users, WordPress::countUsers());
        $this->assertVictimUntouched('add for a contact with a look-alike email');
    }

    // Finding 3: the field map reached capability meta keys.

    public function test_f3_protected_meta_keys_are_refused_in_settings_and_at_write_time(): void
    {
        foreach (['wp_capabilities', 'wp_user_level', 'wp_2_capabilities', 'session_tokens', '_application_passwords', 'mautic_contact_id'] as $key) {
            $error = WordPress::php(<<<'PHP'
                try {
                    wpf_bridge_validate_settings( WPF_Bridge_Settings::for_extension( array_merge( WPF_Bridge_Settings::effective(), array( 'field_map' => array( 'roles' => $args[0] ) ) ) ) );
                    return null;
                } catch ( \Throwable $e ) {
                    return $e->errorCode ?? get_class( $e );
                }
                PHP, [$key]);
            $this->assertSame('invalid_setting', $error, "field map to $key accepted");
        }

        // Stored around the validation: the webhook still never writes the key.
        $user = WordPress::createUser('sub320', 'sub320@site.example', [], ['mautic_contact_id' => '320']);
        WordPress::php('$s = get_option( "wpf_bridge_settings" ); $s["field_map"] = array( "roles" => "wp_capabilities", "level" => "wp_user_level", "firstname" => "first_name" ); update_option( "wpf_bridge_settings", $s ); return true;');
        $body = self::body([self::item(320, ['roles' => ['administrator' => true], 'level' => '10', 'firstname' => 'Sub'], '2030-01-01T00:00:00+00:00')]);
        $response = self::postJson(self::webhookUrl('update'), $body);
        $this->assertNotSame(200, $response->status, 'a stored field map to wp_capabilities must not be applied: ' . $response->describe());
        $after = WordPress::user($user);
        $this->assertSame(['subscriber'], $after['roles'], 'the field map made the subscriber ' . json_encode($after['roles']));
        $this->assertSame('0', (string) ($after['meta']['wp_user_level'] ?? '0'));
    }

    // Finding 4 (issue 5): refused requests pushed accepted entries out of the log. Issue 17:
    // each refused request cost a durable write and a prune; now it only counts.

    public function test_f4_refused_requests_are_counted_without_a_durable_write_each(): void
    {
        $response = (new Http())->get(self::webhookUrl('test'));
        $this->assertSame(200, $response->status, $response->describe());
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        $accepted = WordPress::lastLogId();
        // InnoDB's redo log writes: one per committed durable change (the e2e server flushes the
        // log once a second, innodb_flush_log_at_trx_commit=2, so fsyncs would not count them).
        $fsyncs = static fn (): int => (int) (WordPress::query("SHOW GLOBAL STATUS LIKE 'Innodb_log_writes'")[0][1] ?? -1000000);
        $before = $fsyncs();
        $http = new Http();
        $rounds = 125;
        for ($round = 0; $round < $rounds; $round++) {
            foreach ($http->concurrently(16, 'GET', self::webhookUrl('update', ['contact_id' => '1'], 'wrong-key-' . $round)) as $refused) {
                $this->assertSame(403, $refused->status);
            }
        }
        $synced = $fsyncs() - $before;
        $this->assertSame($accepted, WordPress::lastLogId(), '2,000 refused requests wrote log rows one by one');
        $this->assertGreaterThanOrEqual(0, $synced, 'Innodb_log_writes is not counted');
        $this->assertLessThan(20, $synced, "2,000 refused requests cost $synced redo log writes");
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        [$rows, $hits] = WordPress::query('SELECT COUNT(*), SUM(hits) FROM ' . WordPress::table('wpf_bridge_log') . " WHERE refused = 1 AND id > $accepted AND outcome = 'invalid_access_key'")[0];
        $this->assertSame((string) ($rounds * 16), $hits, 'every refused request counted');
        $this->assertLessThanOrEqual(5, (int) $rows, 'one row per minute and source');
        $ids = array_map(static fn (array $row): int => (int) $row[0], WordPress::query('SELECT id FROM ' . WordPress::table('wpf_bridge_log') . ' WHERE id = ' . $accepted));
        $this->assertSame([$accepted], $ids, 'refused requests pushed the accepted entry out of the log');
        // The webhooks page shows who was refused and how often.
        ['client' => $admin] = $this->logIn('admin', Env::adminPassword());
        $page = $admin->get(Env::url() . '/wp-admin/tools.php?page=wpf-bridge-webhooks&state=refused');
        $this->assertSame(200, $page->status);
        preg_match_all('/data-id="(\d+)" data-status="403" data-outcome="invalid_access_key" data-hits="(\d+)"/', $page->body, $m, PREG_SET_ORDER);
        $shown = array_sum(array_map(static fn (array $row): int => (int) $row[1] > $accepted ? (int) $row[2] : 0, $m));
        $this->assertSame($rounds * 16, $shown, 'the refused view does not show the count');
        $this->assertStringContainsString('127.0.0.1', $page->body);
        fwrite(STDERR, sprintf("\n[AttackTest] 2,000 wrong-key requests: 0 log rows written meanwhile, %d InnoDB redo log writes, folded into %d rows\n", $synced, $rows));

        // A flood from 5,000 addresses (counters written as the refusals would write them):
        // one fold writes at most the log's refused budget, and loses no count.
        $last = WordPress::lastLogId();
        $flood = (int) WordPress::php(<<<'PHP'
            global $wpdb;
            $flood = 0;
            foreach ( array_chunk( range( 0, 4999 ), 500 ) as $chunk ) {
                $values = array();
                foreach ( $chunk as $i ) {
                    $flood   += 1 + $i % 3;
                    $values[] = $wpdb->prepare( "(%d, 'invalid_access_key', 'update', '', 403, %s, %d)", intdiv( time(), 60 ), sprintf( '10.%d.%d.%d', $i >> 16, ( $i >> 8 ) & 255, $i & 255 ), 1 + $i % 3 );
                }
                $wpdb->query( 'INSERT INTO ' . WPF_Bridge_Refusals::table() . ' (minute, code, action, crm, status, source, hits) VALUES ' . implode( ',', $values ) );
            }
            return $flood;
            PHP);
        $this->assertSame($flood, (int) WordPress::php('return WPF_Bridge_Refusals::fold();'));
        [$written, $hits] = WordPress::query('SELECT COUNT(*), SUM(hits) FROM ' . WordPress::table('wpf_bridge_log') . " WHERE id > $last")[0];
        $this->assertLessThanOrEqual(100, (int) $written, 'a fold wrote a log row per address');
        $this->assertSame($flood, (int) $hits, 'a count was lost in the fold');
        $this->assertSame([['0']], WordPress::query('SELECT COUNT(*) FROM ' . WordPress::table('wpf_bridge_refusals')));
        $kept = WordPress::query('SELECT SUM(hits) FROM ' . WordPress::table('wpf_bridge_log') . " WHERE id > $last AND source = ''")[0][0];
        $this->assertGreaterThan(0, (int) $kept, 'the addresses past the budget are summed in one row');
    }

    // Finding 5: no work budget per request.

    public function test_f5_too_many_events_is_413_and_applies_nothing(): void
    {
        $items = [];
        for ($i = 0; $i < 101; $i++) {
            $items[] = self::item(5000 + $i, ['email' => "bulk$i@site.example"], '2030-01-01T00:00:00+00:00');
        }
        $users = WordPress::countUsers();
        $response = self::postJson(self::webhookUrl('add'), self::body($items, 'mautic.lead_post_save_new'));
        $this->assertWebhookError($response, 413, 'too_many_events');
        $this->assertSame($users, WordPress::countUsers(), 'a refused batch created users');
        $this->assertNoCrmRequests('a batch over max_events was refused');
    }

    public function test_f5_a_time_budget_stops_a_long_batch_and_the_queue_applies_the_rest_after_the_answer(): void
    {
        $budget = WordPress::php('return WPF_Bridge_Settings::effective()["time_budget"];');
        WordPress::configure(['time_budget' => 1]);
        try {
            $items = [];
            $ids = [];
            for ($i = 0; $i < 4; $i++) {
                $id = 5200 + $i;
                $ids[$id] = WordPress::createUser("budget$id", "budget$id@site.example", ['first_name' => 'Before'], ['mautic_contact_id' => (string) $id]);
                FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, "budget$id@site.example", 'After', 'Budget', []));
                // No fields in the payload: each event loads its contact from the (slow) CRM.
                $items[] = ['contact' => ['id' => $id], 'timestamp' => '2030-01-01T00:00:00+00:00'];
            }
            FakeCrm::control('POST', 'delay', ['ms' => 700, 'count' => 4]);
            $started = microtime(true);
            $response = self::postJson(self::webhookUrl('update'), self::body($items));
            $elapsed = microtime(true) - $started;
            // Immediate processing answers within its budget: what it reached is applied, the rest
            // stays queued (200: the CRM need not retry, the site does it).
            $results = $this->assertWebhookSucceeded($response, 'update', 'mautic', 4);
            $outcomes = array_column($results, 'outcome');
            $updated = count(array_keys($outcomes, 'updated', true));
            $this->assertGreaterThanOrEqual(1, $updated, $response->describe());
            $this->assertLessThan(4, $updated, $response->describe());
            $this->assertSame(4 - $updated, count(array_keys($outcomes, 'queued', true)), $response->describe());
            $this->assertLessThan(3.5, $elapsed, 'the batch ran past its budget');

            // The request that answered drains the rest after its answer, within the same 1 s
            // budget; on a loaded machine that budget may end first, and the next trigger (here
            // WP-Cron's tick, made due) takes the rest: every user is updated, none retried by the CRM.
            $started = microtime(true);
            $kicked = false;
            do {
                $names = array_map(static fn (int $id): string => (string) WordPress::user($id)['first_name'], $ids);
                if (array_unique($names) === ['After']) {
                    break;
                }
                if (!$kicked && microtime(true) - $started > 5) {
                    WordPress::php('wp_clear_scheduled_hook("wpf_bridge_queue_tick"); wp_schedule_event(time() - 1, "wpf_bridge_minute", "wpf_bridge_queue_tick"); return true;');
                    (new Http())->get(Env::url() . '/wp-cron.php');
                    $kicked = true;
                }
                usleep(200000);
            } while (microtime(true) - $started < 25);
            $this->assertSame(array_fill_keys(array_keys($ids), 'After'), array_combine(array_keys($ids), $names), 'the events past the budget were never applied');
        } finally {
            // Later classes drain with the usual budget, not this test's 1 s.
            WordPress::configure(['time_budget' => $budget]);
        }
    }

    // Finding 6: 5xx for input a retry cannot fix.

    public function test_f6_values_too_long_for_wordpress_are_refused_per_field_before_the_password_is_returned(): void
    {
        WordPress::configure(['return_password' => true, 'return_password_field' => 'wp_password']);
        $long = str_repeat('L', 300);
        FakeCrm::addMauticContact([
            'id' => 330,
            'fields' => ['all' => ['id' => 330, 'email' => 'long330@site.example', 'firstname' => 'Lena', 'lastname' => $long, 'website' => 'https://site.example/' . str_repeat('p', 120)]],
            'tags' => [],
        ]);
        $response = (new Http())->get(self::webhookUrl('add', ['contact_id' => '330']));
        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
        $this->assertSame('created', $results[0]['outcome'], $response->describe());
        $this->assertNotEmpty(preg_grep('/user_url/', $results[0]['notes']), $response->describe());
        $this->assertTrue($results[0]['password_returned'] ?? false, $response->describe());
        self::rememberPassword((string) (FakeCrm::mauticContact(330)['fields']['all']['wp_password'] ?? ''));

        // An email longer than WordPress's column: refused before anything reaches the CRM.
        $email = str_repeat('e', 95) . '@site.example';
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(331, $email, 'Too', 'Long', []));
        $users = WordPress::countUsers();
        $response = (new Http())->get(self::webhookUrl('add', ['contact_id' => '331']));
        $this->assertSame(422, $response->status, $response->describe());
        $this->assertSame($users, WordPress::countUsers());
        $writes = array_filter(FakeCrm::requests(), static fn (array $r): bool => ($r['method'] ?? '') !== 'GET');
        $this->assertSame([], array_values($writes), 'a password was written to the CRM for a user that was never created');
    }

    public function test_f6_parameters_nested_beyond_the_limit_are_400(): void
    {
        // PHP keeps up to 64 levels (max_input_nesting_level); the request array adds two more.
        $query = 'wpf_action=update&access_key=wrong&a' . str_repeat('[x]', 64) . '=1';
        $response = (new Http())->get(Env::url() . '/?' . $query);
        $this->assertSame(400, $response->status, $response->describe());
        $query = 'wpf_action=update&access_key=' . urlencode(WordPress::accessKey()) . '&a' . str_repeat('[x]', 64) . '=1';
        $response = (new Http())->get(Env::url() . '/?' . $query);
        $this->assertSame(400, $response->status, $response->describe());
    }

    // Finding 7: replays.

    public function test_f7_a_replayed_older_delivery_changes_nothing(): void
    {
        WordPress::configure(['webhook_secret' => self::SECRET]);
        $user = WordPress::createUser('replay340', 'replay340@site.example', ['first_name' => 'Zero'], ['mautic_contact_id' => '340']);
        $old = self::body([self::item(340, ['email' => 'replay340@site.example', 'firstname' => 'First'], '2030-01-01T10:00:00+00:00')]);
        $new = self::body([self::item(340, ['email' => 'replay340@site.example', 'firstname' => 'Second'], '2030-01-01T10:00:01+00:00')]);
        $this->assertWebhookSucceeded(self::postJson(self::webhookUrl('update'), $old, self::sign($old)), 'update', 'mautic');
        $this->assertWebhookSucceeded(self::postJson(self::webhookUrl('update'), $new, self::sign($new)), 'update', 'mautic');
        $this->assertSame('Second', WordPress::user($user)['first_name']);

        $replay = self::postJson(self::webhookUrl('update'), $old, self::sign($old));
        $results = $this->assertWebhookSucceeded($replay, 'update', 'mautic');
        $this->assertSame('ignored', $results[0]['outcome'], $replay->describe());
        $this->assertSame('stale_event', $results[0]['reason'], $replay->describe());
        $this->assertSame('Second', WordPress::user($user)['first_name'], 'a replayed older delivery reverted a newer change');
    }

    // Finding 9: legacy level capabilities, list_users, bidi controls.

    public function test_f9_roles_with_legacy_levels_or_list_users_are_privileged(): void
    {
        foreach (['legacy_boss', 'user_lister'] as $i => $role) {
            $id = 350 + $i;
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, "role$id@site.example", 'Role', 'Test', []));
            $response = (new Http())->get(self::webhookUrl('add', ['contact_id' => (string) $id, 'role' => $role]));
            $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
            $this->assertSame('privileged_role', $results[0]['role_refused'] ?? null, "$role: " . $response->describe());
            $this->assertSame(['subscriber'], WordPress::user((int) $results[0]['user_id'])['roles'], $role);
        }
    }

    public function test_f9_contact_ids_with_bidi_controls_are_refused(): void
    {
        $response = (new Http())->get(self::webhookUrl('update', ['contact_id' => "12\u{202E}34"]));
        $this->assertWebhookError($response, 400, 'invalid_payload');
        $this->assertStringNotContainsString("\u{202E}", $response->body, 'the answer echoes the bidi control');
    }
}
