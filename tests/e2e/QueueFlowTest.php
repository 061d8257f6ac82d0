<?php
// The durable webhook queue end to end (issue 10), on the real stack: nginx, php-fpm (two
// PHP servers), WordPress, MariaDB, the fake CRM. Every assertion reads real state: the
// queue table's rows, users and their meta, captured mails, the fake CRM's request log, and
// the drain reports the env's mu-plugin sums (tests/e2e/env/php/mu-plugins/wpf-e2e.php).
//   (a) a background `add` is answered 200 at once, and the user exists shortly after;
//   (b) a storm over 16 connections, the fake CRM at 150 ms: all 200, every contact at its
//       newest version, applies at most contacts plus 10%, 0 CRM calls; and a
//       backlog (the drain held off while a storm arrives): exactly one apply per contact;
//   (c) the CRM failing (500, then 429 with Retry-After), then recovering: every event
//       applied after its retries, none lost;
//   (d) a php-fpm worker SIGKILLed while applying: its events are claimed again after the
//       lease and applied once;
//   (e) a storm split between the two PHP servers: one user per contact, nothing lost.
// Sizes: WPF_E2E_STORM_CONTACTS x WPF_E2E_STORM_VERSIONS (default 100 x 5; the issue's
// 1,000 x 10 by env) and WPF_E2E_SPLIT_CONTACTS x WPF_E2E_SPLIT_VERSIONS (default 40 x 4).
// Each test starts from an empty queue table; (d) runs last, so its rows (an add that returned
// a password) stay for SecretLeakTest's scan.
final class QueueFlowTest extends E2eTestCase
{
    private const CONNECTIONS = 16;
    /** Seconds (stored as a list: the plugin keeps a setting's stored type). */
    private const RETRY_DELAYS = [1, 2, 3];
    /** The shortest lease the settings accept (MIN_CLAIM_TIMEOUT_SECS). */
    private const CLAIM_TIMEOUT = 30;

    private static array $original = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(self::settings());
        WordPress::deleteAllUsersButAdmin();
    }

    public static function tearDownAfterClass(): void
    {
        WordPress::php('WPF_Bridge_Settings::save( $args ); return true;', self::$original);
        FakeCrm::reset();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        QueueTable::reset();
    }

    /**
     * The class's settings: background processing, short retry delays, the shortest lease, and
     * the default time budget (an earlier class may have stored a 1 s one, which ends each
     * drain after a second and leaves a storm's last events to cron).
     */
    private static function settings(array $overrides = []): array
    {
        return WordPress::fakeCrmSettings('mautic', $overrides + [
            'return_password' => false,
            'return_password_field' => '',
            'processing' => 'background',
            'retry_delays' => self::RETRY_DELAYS,
            'claim_timeout' => self::CLAIM_TIMEOUT,
            'time_budget' => (int) WordPress::php('return WPF_Bridge_Settings::defaults()["time_budget"];'),
        ]);
    }

    private static function size(string $name, int $default): int
    {
        $value = getenv($name);
        return $value !== false && ctype_digit($value) && (int) $value > 0 ? (int) $value : $default;
    }

    /** A Mautic webhook body with one item per contact: [id, email|null, firstname|null, tags|null, timestamp]. */
    private static function mauticBody(string $type, array $items): string
    {
        $events = [];
        foreach ($items as [$id, $email, $first, $tags, $time]) {
            $contact = ['id' => $id];
            if ($email !== null) {
                $contact['fields'] = ['core' => [
                    'email' => ['alias' => 'email', 'value' => $email],
                    'firstname' => ['alias' => 'firstname', 'value' => $first],
                ]];
            }
            if ($tags !== null) {
                $contact['tags'] = array_map(static fn (string $tag): array => ['tag' => $tag], $tags);
            }
            $events[] = ['contact' => $contact, 'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $time)];
        }
        return json_encode(["mautic.$type" => $events]);
    }

    /** The queued answer: 200, success, the action and CRM, one queued id per contact; returns the ids. */
    private function assertQueued(int $status, string $body, string $action, array $contacts): array
    {
        $this->assertSame(200, $status, $body);
        $json = json_decode($body, true);
        $this->assertIsArray($json, $body);
        $this->assertTrue($json['success'] ?? null, $body);
        $this->assertSame($action, $json['action'] ?? null, $body);
        $this->assertSame('mautic', $json['crm'] ?? null, $body);
        $this->assertArrayNotHasKey('results', $json, 'a background answer carries no apply results: ' . $body);
        $this->assertSame(array_map('strval', $contacts), array_map(static fn (array $q): string => (string) $q['contact_id'], $json['queued'] ?? []), $body);
        foreach ($json['queued'] as $queued) {
            $this->assertIsInt($queued['id'], $body);
        }
        return array_column($json['queued'], 'id');
    }

    /** Polls $probe every 0.2 s until it returns a truthy value, at most $seconds; returns it. */
    private function eventually(float $seconds, callable $probe, string $what): mixed
    {
        $deadline = microtime(true) + $seconds;
        do {
            $value = $probe();
            if ($value) {
                return $value;
            }
            usleep(200000);
        } while (microtime(true) < $deadline);
        $this->fail(sprintf('%s: not within %.0f s (queue: %s)', $what, $seconds, json_encode(QueueTable::counts())));
    }

    /** Runs the CLI worker and asserts it succeeded. */
    private function runWorker(): string
    {
        [$exit, $out, $err] = QueueTable::runWorker('run');
        $this->assertSame(0, $exit, "bin/worker.php run failed:\n$out\n$err");
        return $out;
    }

    /** Users linked to contacts in [$from, $to]: contact id => [user id, ...]. */
    private static function linkedUsers(int $from, int $to): array
    {
        $linked = [];
        foreach (WordPress::query(sprintf("SELECT meta_value, user_id FROM %s WHERE meta_key = 'mautic_contact_id' AND CAST(meta_value AS UNSIGNED) BETWEEN %d AND %d ORDER BY user_id",
            WordPress::table('usermeta'), $from, $to)) as [$contact, $user]) {
            $linked[(int) $contact][] = (int) $user;
        }
        ksort($linked);
        return $linked;
    }

    /** First name and tags of the users linked to contacts in [$from, $to]: contact => [first, tags]. */
    private static function versions(int $from, int $to): array
    {
        return WordPress::php(<<<'PHP'
            global $wpdb;
            $out = array();
            $rows = $wpdb->get_results( $wpdb->prepare( "SELECT meta_value, user_id FROM {$wpdb->usermeta} WHERE meta_key = 'mautic_contact_id' AND CAST(meta_value AS UNSIGNED) BETWEEN %d AND %d", $args[0], $args[1] ) );
            foreach ( $rows as $row ) {
                $tags = get_user_meta( (int) $row->user_id, 'mautic_tags', true );
                $out[ $row->meta_value ] = array( get_user_meta( (int) $row->user_id, 'first_name', true ), is_array( $tags ) ? array_values( $tags ) : $tags );
            }
            return $out;
            PHP, [$from, $to], 120);
    }

    // ---- (a) ----------------------------------------------------------------------------

    public function test_a_background_add_is_answered_at_once_and_the_user_exists_shortly_after(): void
    {
        $contact = 93001;
        $email = 'quinn.queued@example.com';
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, $email, 'Quinn', 'Queued', ['paid']));
        // The apply loads the contact from the CRM, which answers after 3 s: an answer that
        // waited for the apply would arrive after the user exists.
        FakeCrm::control('POST', 'delay', ['ms' => 3000, 'count' => 1]);
        $lastLog = WordPress::lastLogId();

        $started = microtime(true);
        $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $contact, 'role' => 'customer']), '');
        $answered = microtime(true) - $started;

        [$id] = $this->assertQueued($response->status, $response->body, 'add', [$contact]);
        $this->assertSame([], WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact), 'the user existed when the answer came: the answer waited for the apply');
        $stored = QueueTable::rows([$id]);
        $this->assertCount(1, $stored, 'the queued id is not a row of the queue table');
        $this->assertSame((string) $contact, $stored[$id]['contact_id']);

        $users = $this->eventually(15, static fn () => WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact), 'the queued add was not applied');
        $applied = microtime(true) - $started;
        $this->assertCount(1, $users);
        $user = WordPress::user($users[0]);
        $this->assertSame($email, $user['email']);
        $this->assertSame('Quinn', $user['first_name']);
        $this->assertSame(['customer'], $user['roles']);
        $this->assertSameTags(['paid'], $user['meta']['mautic_tags'] ?? null);

        $row = $this->eventually(5, static fn () => (QueueTable::rows([$id])[$id]['state'] ?? '') === 'done' ? QueueTable::rows([$id])[$id] : null, 'the applied event was not settled done');
        $this->assertSame('created', $row['outcome']);
        $this->assertSame((string) $users[0], $row['user_id']);
        $this->assertSame('1', $row['attempts']);
        $this->assertSame(['GET /mautic/api/contacts/' . $contact], array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], FakeCrm::requests()));
        $this->assertSame($lastLog, WordPress::lastLogId(), 'an accepted webhook wrote a log row: its queue row is its record');
        fwrite(STDERR, sprintf("\n[QueueFlowTest] (a) answered in %.3f s; user created %.1f s after sending (the CRM took 3 s)\n", $answered, $applied));
    }

    // ---- (b) ----------------------------------------------------------------------------

    public function test_b_a_storm_is_answered_coalesced_and_applied_without_crm_calls(): void
    {
        $contacts = self::size('WPF_E2E_STORM_CONTACTS', 100);
        $versions = self::size('WPF_E2E_STORM_VERSIONS', 5);
        $first = 94000;
        $users = WordPress::php(<<<'PHP'
            $ids = array();
            for ( $i = 0; $i < $args[1]; $i++ ) {
                $contact = $args[0] + $i;
                $id = wp_insert_user( array( 'user_login' => "storm$contact", 'user_email' => "storm$contact@site.example", 'user_pass' => wp_generate_password( 24 ), 'first_name' => 'v0', 'role' => 'subscriber' ) );
                if ( is_wp_error( $id ) ) {
                    throw new RuntimeException( $id->get_error_message() );
                }
                update_user_meta( $id, 'mautic_contact_id', (string) $contact );
                $ids[] = $id;
            }
            return $ids;
            PHP, [$first, $contacts], 600);
        $this->assertCount($contacts, $users);
        // Any CRM API call would cost 150 ms (and show in the fake CRM's log).
        FakeCrm::control('POST', 'delay', ['ms' => 150, 'count' => 10000]);

        // Each contact's versions back to back, in a shuffled order: the CRM timestamp, not the
        // arrival, decides the newest.
        mt_srand(10);
        $requests = [];
        $url = self::webhookUrl('update');
        $base = strtotime('2030-02-01T00:00:00Z');
        for ($c = 0; $c < $contacts; $c++) {
            $contact = $first + $c;
            $order = range(1, $versions);
            shuffle($order);
            foreach ($order as $v) {
                $requests[] = [$url, self::mauticBody('lead_post_save_update', [[$contact, "storm$contact@site.example", "v$v", ["version-$v"], $base + $v]])];
            }
        }

        $started = microtime(true);
        $answers = Load::post($requests, self::CONNECTIONS);
        $sent = microtime(true) - $started;
        $this->assertSame([200 => count($requests)], array_count_values(array_column($answers, 'status')), 'every webhook must be answered 200');
        $ids = [];
        foreach ($answers as $i => $answer) {
            $contact = json_decode($requests[$i][1], true)['mautic.lead_post_save_update'][0]['contact']['id'];
            $ids = array_merge($ids, $this->assertQueued($answer['status'], $answer['body'], 'update', [$contact]));
        }
        $wait = QueueTable::waitUntilSettled(240, 10);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting after 240 s');

        // Nothing lost: every queued id is a row, done.
        $rows = QueueTable::rows($ids);
        $this->assertCount(count($requests), $rows, 'queued events are missing from the queue table');
        $this->assertSame(['done' => count($requests)], array_count_values(array_column($rows, 'state')));
        $this->assertSame(['done' => count($requests)], QueueTable::counts());

        $stale = [];
        foreach (self::versions($first, $first + $contacts - 1) as $contact => [$name, $tags]) {
            if ($name !== "v$versions" || $tags !== ["version-$versions"]) {
                $stale[] = "$contact=" . json_encode([$name, $tags]);
            }
        }
        $this->assertSame([], $stale, count($stale) . " of $contacts users did not end at their newest version");

        $sums = QueueTable::drainSums();
        $latencies = array_column($answers, 'seconds');
        fwrite(STDERR, sprintf("\n[QueueFlowTest] (b) %d contacts x %d versions = %d webhooks over %d connections: answered in %.1f s (%.0f/s, median %.0f ms); queue settled %.1f s after the last answer (%d CLI worker runs); %d drains, %d applies\n",
            $contacts, $versions, count($requests), self::CONNECTIONS, $sent, count($requests) / $sent, 1000 * Load::median($latencies), $wait['seconds'], $wait['worker_runs'], $sums['drains'], $sums['applies']));
        // Coalesced: one apply per contact, plus a small slack (the issue's 10%) for contacts a
        // drain listed while their versions were still arriving. A drain that listed again at
        // once kept re-applying the contacts in flight (111-155 applies per 100 measured
        // before the worker paused between rounds); without coalescing, one apply per webhook.
        $slack = max(10, intdiv($contacts, 10));
        $this->assertGreaterThanOrEqual($contacts, $sums['applies'], 'fewer applies than contacts: are the drain reports counted? ' . json_encode($sums));
        $this->assertLessThanOrEqual($contacts + $slack, $sums['applies'], "the storm was not coalesced: more than $contacts + $slack applies " . json_encode($sums));
        $this->assertNoCrmRequests('the Mautic payloads carried every field');
    }

    public function test_b_a_backlog_is_one_apply_per_contact(): void
    {
        $contacts = 50;
        $versions = 4;
        $first = 94500;
        WordPress::php(<<<'PHP'
            for ( $i = 0; $i < $args[1]; $i++ ) {
                $contact = $args[0] + $i;
                $id = wp_insert_user( array( 'user_login' => "backlog$contact", 'user_email' => "backlog$contact@site.example", 'user_pass' => wp_generate_password( 24 ), 'first_name' => 'v0', 'role' => 'subscriber' ) );
                if ( is_wp_error( $id ) ) {
                    throw new RuntimeException( $id->get_error_message() );
                }
                update_user_meta( $id, 'mautic_contact_id', (string) $contact );
            }
            return true;
            PHP, [$first, $contacts], 300);
        $requests = [];
        $url = self::webhookUrl('update');
        $base = strtotime('2030-02-15T00:00:00Z');
        for ($c = 0; $c < $contacts; $c++) {
            $contact = $first + $c;
            foreach ([3, 1, 4, 2] as $v) {
                $requests[] = [$url, self::mauticBody('lead_post_save_update', [[$contact, "backlog$contact@site.example", "v$v", ["version-$v"], $base + $v]])];
            }
        }

        // While the site is busy draining (here: the test holds the drain lease), every version
        // of every contact arrives and waits.
        $lease = QueueTable::holdDrainLease();
        try {
            $answers = Load::post($requests, self::CONNECTIONS);
            $this->assertSame([200 => count($requests)], array_count_values(array_column($answers, 'status')));
            $this->assertSame(['pending' => count($requests)], QueueTable::counts(), 'a request drained while the lease was held');
        } finally {
            $lease->close();
        }
        $this->runWorker();

        $this->assertSame(['done' => count($requests)], QueueTable::counts());
        $sums = QueueTable::drainSums();
        $this->assertSame($contacts, $sums['applies'], "$versions waiting versions of each contact must be one apply: " . json_encode($sums));
        $stale = [];
        foreach (self::versions($first, $first + $contacts - 1) as $contact => [$name, $tags]) {
            if ($name !== "v$versions" || $tags !== ["version-$versions"]) {
                $stale[] = "$contact=" . json_encode([$name, $tags]);
            }
        }
        $this->assertSame([], $stale, 'the newest version must win');
        $this->assertNoCrmRequests('the Mautic payloads carried every field');
    }

    // ---- (c) ----------------------------------------------------------------------------

    public function test_c_crm_failures_are_retried_until_every_event_is_applied(): void
    {
        $contacts = [95001, 95002, 95003];
        foreach ($contacts as $contact) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, "retry$contact@example.com", "Retry$contact", 'Later', ['retried']));
        }
        $from = min($contacts);
        $to = max($contacts);
        // One webhook, three contacts without their fields: each apply loads its contact.
        FakeCrm::control('POST', 'fail', ['status' => 500, 'count' => count($contacts)]);
        $time = strtotime('2030-03-01T00:00:00Z');
        $response = self::postJson(self::webhookUrl('add'), self::mauticBody('lead_post_save_new', array_map(static fn (int $c): array => [$c, null, null, null, $time], $contacts)));
        $ids = $this->assertQueued($response->status, $response->body, 'add', $contacts);

        // 1. The drain after the answer meets three 500s: every event waits for a retry.
        $rows = $this->eventually(15, static function () use ($ids) {
            $rows = QueueTable::rows($ids);
            return array_unique(array_column($rows, 'state')) === ['retrying'] ? $rows : null;
        }, 'the events did not wait for a retry after the CRM\'s 500s');
        foreach ($rows as $row) {
            $this->assertSame(['1', 'crm_unavailable'], [$row['attempts'], $row['error_code']], json_encode($row));
            $this->assertGreaterThanOrEqual((int) $row['settled_at'] + 1, (int) $row['due_at'], 'retry_delays[0] is 1 s: ' . json_encode($row));
        }
        $this->assertSame([], self::linkedUsers($from, $to));

        // 2. Rate limited: 429 with Retry-After: 5, longer than retry_delays[1] = 2 s.
        FakeCrm::control('POST', 'fail', ['status' => 429, 'count' => count($contacts), 'retry_after' => 5]);
        $this->waitUntilDue($ids);
        $this->runWorker();
        $rows = QueueTable::rows($ids);
        foreach ($rows as $row) {
            $this->assertSame(['retrying', '2', 'crm_rate_limited'], [$row['state'], $row['attempts'], $row['error_code']], json_encode($row));
            // settled_at and due_at are whole seconds of the database clock, read a moment apart.
            $this->assertGreaterThanOrEqual((int) $row['settled_at'] + 4, (int) $row['due_at'], 'Retry-After (5 s) was not honoured: ' . json_encode($row));
        }
        // Not due yet: a drain now leaves them alone and calls no CRM.
        $calls = count(FakeCrm::requests());
        $this->runWorker();
        $this->assertSame($rows, QueueTable::rows($ids), 'events were tried again before their Retry-After');
        $this->assertCount($calls, FakeCrm::requests());

        // 3. The CRM recovered: the next due drain applies every event, once.
        $this->waitUntilDue($ids);
        $this->runWorker();
        $rows = QueueTable::rows($ids);
        $this->assertSame(['done'], array_values(array_unique(array_column($rows, 'state'))), json_encode($rows));
        $this->assertSame(['3'], array_values(array_unique(array_column($rows, 'attempts'))), json_encode($rows));
        $this->assertSame(['created'], array_values(array_unique(array_column($rows, 'outcome'))), json_encode($rows));
        $linked = self::linkedUsers($from, $to);
        $this->assertSame($contacts, array_keys($linked), 'not every contact got its user');
        foreach ($linked as $contact => $users) {
            $this->assertCount(1, $users, "contact $contact has more than one user");
            $this->assertSame("retry$contact@example.com", WordPress::user($users[0])['email']);
        }
        // Three attempts per contact, each one contact load; nothing else.
        $paths = array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], FakeCrm::requests());
        sort($paths);
        $expected = [];
        foreach ($contacts as $contact) {
            array_push($expected, ...array_fill(0, 3, "GET /mautic/api/contacts/$contact"));
        }
        $this->assertSame($expected, $paths);
        $this->assertSame(['done' => count($contacts)], QueueTable::counts(), 'an event was lost or failed');
    }

    /** Waits until every row of $ids is due by the database clock. */
    private function waitUntilDue(array $ids): void
    {
        $due = max(array_map(static fn (array $row): int => (int) $row['due_at'], QueueTable::rows($ids)));
        $this->eventually(15, static fn () => QueueTable::now() >= $due, 'the retry time did not come');
    }

    // ---- (e) ----------------------------------------------------------------------------

    public function test_e_a_storm_split_between_two_php_servers_makes_one_user_per_contact(): void
    {
        $second = getenv('WPF_E2E_URL2') ?: '';
        if ($second === '') {
            $this->markTestSkipped('no second PHP server (WPF_E2E_PORT2=0)');
        }
        $contacts = self::size('WPF_E2E_SPLIT_CONTACTS', 40);
        $versions = self::size('WPF_E2E_SPLIT_VERSIONS', 4);
        $first = 97000;
        $urls = [self::webhookUrl('add'), str_replace(Env::url(), rtrim($second, '/'), self::webhookUrl('add'))];
        $this->assertNotSame($urls[0], $urls[1]);

        // New contacts: every version is an `add`, alternately to each server, so both race
        // to create each user.
        mt_srand(20);
        $requests = [];
        $base = strtotime('2030-04-01T00:00:00Z');
        for ($c = 0; $c < $contacts; $c++) {
            $contact = $first + $c;
            $order = range(1, $versions);
            shuffle($order);
            foreach ($order as $v) {
                $requests[] = [$urls[count($requests) % 2], self::mauticBody('lead_post_save_new', [[$contact, "split$contact@site.example", "v$v", ["version-$v"], $base + $v]])];
            }
        }
        $answers = Load::post($requests, self::CONNECTIONS);
        $ids = [];
        foreach ($answers as $i => $answer) {
            $contact = json_decode($requests[$i][1], true)['mautic.lead_post_save_new'][0]['contact']['id'];
            $ids = array_merge($ids, $this->assertQueued($answer['status'], $answer['body'], 'add', [$contact]));
        }
        $wait = QueueTable::waitUntilSettled(180, 10);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting after 180 s');

        $rows = QueueTable::rows($ids);
        $this->assertCount(count($requests), $rows, 'queued events are missing from the queue table');
        $this->assertSame(['done' => count($requests)], array_count_values(array_column($rows, 'state')));
        $linked = self::linkedUsers($first, $first + $contacts - 1);
        $this->assertCount($contacts, $linked, 'not every contact got a user');
        $this->assertSame([1], array_values(array_unique(array_map('count', $linked))), 'a contact got more than one user: ' . json_encode(array_filter($linked, static fn (array $u): bool => count($u) > 1)));
        $this->assertSame($contacts, (int) WordPress::query(sprintf("SELECT COUNT(*) FROM %s WHERE user_email LIKE 'split%%@site.example'", WordPress::table('users')))[0][0]);
        $stale = [];
        foreach (self::versions($first, $first + $contacts - 1) as $contact => [$name, $tags]) {
            if ($name !== "v$versions" || $tags !== ["version-$versions"]) {
                $stale[] = "$contact=" . json_encode([$name, $tags]);
            }
        }
        $this->assertSame([], $stale, count($stale) . " of $contacts users did not end at their newest version");
        $this->assertNoCrmRequests('the Mautic payloads carried every field and no password is returned');
        fwrite(STDERR, sprintf("\n[QueueFlowTest] (e) %d webhooks split between %s and %s; settled %.1f s after the last answer (%d CLI worker runs)\n",
            count($requests), Env::url(), $second, $wait['seconds'], $wait['worker_runs']));
    }

    // ---- (d) ----------------------------------------------------------------------------

    public function test_d_a_worker_killed_while_applying_leaves_its_events_to_be_claimed_again_and_applied_once(): void
    {
        WordPress::configure(self::settings(['return_password' => true, 'return_password_field' => 'wp_password']));
        try {
            $this->killWhileApplying();
        } finally {
            WordPress::configure(self::settings());
        }
    }

    private function killWhileApplying(): void
    {
        $contact = 96001;
        $email = 'kim.killed@example.com';
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, $email, 'Kim', 'Killed', ['survivor']));
        // A drain still running from the tests before (one lingers for a round pause after its
        // last apply) would take this webhook's event in its own request; wait for it to end,
        // so the webhook's request drains it.
        QueueTable::holdDrainLease()->close();
        // The apply's contact load hangs for 20 s: the worker is killed inside it.
        FakeCrm::control('POST', 'delay', ['ms' => 20000, 'count' => 1]);
        $mails = WordPress::mailFiles();

        $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $contact, 'role' => 'customer', 'send_notification' => 'true']), '');
        [$id] = $this->assertQueued($response->status, $response->body, 'add', [$contact]);

        // Applying: the event is claimed, the CRM has the load, a worker is still on the request.
        $this->eventually(10, static fn () => (QueueTable::rows([$id])[$id]['state'] ?? '') === 'claimed' && count(FakeCrm::requests()) === 1, 'the event was not being applied');
        $pid = $this->eventually(5, static fn () => Fpm::busyWorker(Env::url(), 'wpf_action=add'), 'no php-fpm worker is busy with the webhook');
        Fpm::kill($pid, (int) Env::get('WPF_E2E_PHP_FPM_PID'));

        $row = QueueTable::rows([$id])[$id];
        $this->assertSame(['claimed', '1'], [$row['state'], $row['attempts']], 'the killed worker\'s claim: ' . json_encode($row));
        $this->assertSame([], WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact), 'the killed worker created the user');
        // While the lease runs nobody takes the event over: no apply twice at once.
        $this->runWorker();
        $this->assertSame($row, QueueTable::rows([$id])[$id], 'the event was claimed again before its lease ran out');
        $this->assertCount(1, FakeCrm::requests());

        // After the lease: claimed again and applied, once.
        $lease = (int) $row['lease_until'];
        $this->assertLessThanOrEqual(QueueTable::now() + self::CLAIM_TIMEOUT, $lease);
        $this->eventually(self::CLAIM_TIMEOUT + 15, static fn () => QueueTable::now() >= $lease, 'the lease did not run out');
        $this->runWorker();

        $row = QueueTable::rows([$id])[$id];
        $this->assertSame(['done', '2', 'created'], [$row['state'], $row['attempts'], $row['outcome']], json_encode($row));
        $users = WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact);
        $this->assertCount(1, $users, 'one user for the contact');
        $this->assertSame((string) $users[0], $row['user_id']);
        $this->assertSame(['customer'], WordPress::user($users[0])['roles']);
        $new = WordPress::mailsSince($mails);
        $this->assertCount(1, $new, 'expected one welcome email, got: ' . json_encode(array_column($new, 'subject')));
        $this->assertSame([$email], $new[0]['to']);
        $requests = FakeCrm::requests();
        $this->assertSame(['GET', 'GET', 'PATCH'], array_column($requests, 'method'), FakeCrm::describe($requests));
        $password = (string) (json_decode($requests[2]['body'], true)['wp_password'] ?? '');
        self::rememberPassword($password);
        $this->assertSame($password, FakeCrm::mauticContact($contact)['fields']['all']['wp_password'] ?? null);
    }
}
