<?php
// The queue's storage port on the real WordPress and MariaDB (issue 10): WPF_Bridge_Queue
// (php/includes/class-queue.php) as the extension uses it, through WordPress::php() and
// tests/e2e/env/wp.sh. One INSERT per webhook; atomic claims, also raced from two PHP
// processes; an expired lease claimable again; settling guarded by the claim token;
// wpf_bridge_handle_queued() + wpf_bridge_drain() with the real Site adapter and the real
// table coalescing ten versions of one contact into one apply; no secret in any column.
// The endpoint still answers with wpf_bridge_handle_webhook(): nothing here goes through HTTP.
final class QueueStorageTest extends E2eTestCase
{
    private const CONTACT = 91001;
    private const SECRET = 'queue-e2e-webhook-secret-7f3a';

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'webhook_secret' => self::SECRET,
            'return_password' => true,
            'return_password_field' => 'wp_password',
            'processing' => 'background',
        ]));
    }

    protected function setUp(): void
    {
        WordPress::query('TRUNCATE TABLE ' . WordPress::table('wpf_bridge_queue'));
    }

    /** @return list<array<string, string|null>> every row of the queue table, every column. */
    private static function rows(): array
    {
        $columns = array_column(WordPress::query('SHOW COLUMNS FROM ' . WordPress::table('wpf_bridge_queue')), 0);
        return array_map(
            static fn (array $row): array => array_combine($columns, $row),
            WordPress::query('SELECT * FROM ' . WordPress::table('wpf_bridge_queue') . ' ORDER BY id')
        );
    }

    /** Stores rows for contacts ($contact => number of events) in one store() call; returns the ids. */
    private static function store(array $events): array
    {
        return WordPress::php(<<<'PHP'
            $rows = array();
            foreach ( $args as $contact => $count ) {
                for ( $i = 0; $i < $count; $i++ ) {
                    $rows[] = array( 'crm' => 'mautic', 'contact_id' => (string) $contact, 'data' => '{"v":' . $i . '}' );
                }
            }
            return ( new WPF_Bridge_Queue() )->store( $rows );
            PHP, $events);
    }

    public function test_the_installer_created_the_table_at_its_schema_version(): void
    {
        $this->assertSame([['3']], WordPress::query("SELECT option_value FROM " . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_queue_db_version'"));
        // An outdated version is upgraded on plugins_loaded (any request), not only in wp-admin:
        // schema 1 had no retention index; dbDelta adds it.
        WordPress::query('ALTER TABLE ' . WordPress::table('wpf_bridge_queue') . ' DROP INDEX state_settled');
        WordPress::php('update_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION, 1 ); return true;');
        $this->assertSame(3, (int) WordPress::php('return get_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION );'));
        $this->assertSame([['3']], WordPress::query("SELECT option_value FROM " . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_queue_db_version'"));
        $index = WordPress::query("SHOW INDEX FROM " . WordPress::table('wpf_bridge_queue') . " WHERE Key_name = 'state_settled'");
        $this->assertSame(['state', 'settled_at'], array_column($index, 4), 'the retention index was not added back');
    }

    public function test_a_webhooks_events_are_stored_in_one_insert(): void
    {
        $result = WordPress::php(<<<'PHP'
            $writes = array();
            add_filter( 'query', function ( $sql ) use ( &$writes ) {
                if ( preg_match( '/^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i', $sql ) ) {
                    $writes[] = substr( $sql, 0, 40 );
                }
                return $sql;
            } );
            $rows = array();
            foreach ( array( '11', '12', '11', '13', '12' ) as $i => $contact ) {
                $rows[] = array( 'crm' => 'mautic', 'contact_id' => $contact, 'data' => '{"n":' . $i . ',"pct":"100%"}' );
            }
            $ids = ( new WPF_Bridge_Queue() )->store( $rows );
            return array( 'ids' => $ids, 'writes' => $writes );
            PHP);
        $this->assertCount(1, $result['writes'], json_encode($result['writes']));
        $this->assertStringStartsWith('INSERT INTO', $result['writes'][0]);
        $rows = self::rows();
        $this->assertSame(array_map('strval', $result['ids']), array_column($rows, 'id'));
        $this->assertSame(['11', '12', '11', '13', '12'], array_column($rows, 'contact_id'));
        $this->assertSame(['pending'], array_values(array_unique(array_column($rows, 'state'))));
        $this->assertSame('{"n":3,"pct":"100%"}', $rows[3]['data'], 'data is stored byte for byte');
    }

    public function test_two_claims_with_different_tokens_never_both_get_a_row(): void
    {
        $ids = self::store([21 => 3, 22 => 1]);
        $claims = WordPress::php(<<<'PHP'
            $q = new WPF_Bridge_Queue();
            return array(
                'a'     => $q->claim( 'mautic', '21', 'token-a', 300, 200 ),
                'b'     => $q->claim( 'mautic', '21', 'token-b', 300, 200 ),
                'other' => $q->claim( 'mautic', '22', 'token-b', 300, 200 ),
                'due'   => $q->due_contacts( 10 ),
            );
            PHP);
        $this->assertSame(array_slice($ids, 0, 3), array_column($claims['a'], 'id'));
        $this->assertSame([1, 1, 1], array_column($claims['a'], 'attempts'));
        $this->assertSame([], $claims['b'], 'a claimed row was claimed again under another token');
        $this->assertSame([$ids[3]], array_column($claims['other'], 'id'));
        $this->assertSame([], $claims['due']);
        $tokens = array_column(self::rows(), 'claim_token', 'contact_id');
        $this->assertSame(['21' => 'token-a', '22' => 'token-b'], $tokens);
    }

    public function test_contact_ids_differing_only_in_case_or_trailing_space_are_different_contacts(): void
    {
        $result = WordPress::php(<<<'PHP'
            $q   = new WPF_Bridge_Queue();
            $ids = $q->store( array(
                array( 'crm' => 'userengage', 'contact_id' => 'abc', 'data' => '{"n":1}' ),
                array( 'crm' => 'userengage', 'contact_id' => 'ABC', 'data' => '{"n":2}' ),
                array( 'crm' => 'userengage', 'contact_id' => 'abc ', 'data' => '{"n":3}' ),
                array( 'crm' => 'mautic', 'contact_id' => 'abc', 'data' => '{"n":4}' ),
            ) );
            return array(
                'ids'   => $ids,
                'due'   => $q->due_contacts( 10 ),
                'claim' => $q->claim( 'userengage', 'abc', 'case-token', 300, 200 ),
            );
            PHP);
        $this->assertSame([
            ['crm' => 'userengage', 'contact_id' => 'abc'],
            ['crm' => 'userengage', 'contact_id' => 'ABC'],
            ['crm' => 'userengage', 'contact_id' => 'abc '],
            ['crm' => 'mautic', 'contact_id' => 'abc'],
        ], $result['due']);
        $this->assertSame([$result['ids'][0]], array_column($result['claim'], 'id'));
    }

    public function test_two_php_processes_racing_for_the_same_contacts_never_share_a_row(): void
    {
        $contacts = 150;
        $events = [];
        for ($c = 0; $c < $contacts; $c++) {
            $events[30000 + $c] = 2;
        }
        $ids = self::store($events);
        $this->assertCount(2 * $contacts, $ids);

        // Both processes load WordPress, wait for the same instant, then claim every contact in
        // the same order, each under its own token.
        $base = tempnam(sys_get_temp_dir(), 'wpf-queue-race-');
        $script = $base . '.php';
        try {
            $this->race($script, $contacts, $ids);
        } finally {
            @unlink($script);
            @unlink($base);
        }
    }

    /** Writes the claiming script to $script, runs it twice at once, checks the claims. */
    private function race(string $script, int $contacts, array $ids): void
    {
        file_put_contents($script, <<<'PHP'
            <?php
            [, $start, $token, $first, $count] = $argv;
            $q = new WPF_Bridge_Queue();
            time_sleep_until( (float) $start );
            $got = array();
            for ( $c = (int) $first; $c < (int) $first + (int) $count; $c++ ) {
                foreach ( $q->claim( 'mautic', (string) $c, $token, 300, 200 ) as $row ) {
                    $got[] = $row['id'];
                }
            }
            echo json_encode( $got );
            PHP);
        $start = sprintf('%.3f', microtime(true) + 4);
        $procs = [];
        foreach (['race-token-a', 'race-token-b'] as $token) {
            $procs[$token] = proc_open([Env::envScript('wp.sh'), $script, $start, $token, '30000', (string) $contacts],
                [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
            $procs[$token] = [$procs[$token], $pipes];
        }
        $got = [];
        foreach ($procs as $token => [$proc, $pipes]) {
            $out = stream_get_contents($pipes[1]);
            $err = stream_get_contents($pipes[2]);
            $this->assertSame(0, proc_close($proc), "$token: $err");
            $got[$token] = json_decode($out, true);
            $this->assertIsArray($got[$token], "$token printed: $out $err");
        }

        $a = $got['race-token-a'];
        $b = $got['race-token-b'];
        $this->assertSame([], array_values(array_intersect($a, $b)), 'a row was claimed by both processes');
        $all = array_merge($a, $b);
        sort($all);
        $this->assertSame($ids, $all, 'every row was claimed by exactly one process');
        fwrite(STDERR, sprintf("[queue race] %d contacts: process a claimed %d rows, b %d\n", $contacts, count($a), count($b)));
        $rows = self::rows();
        $this->assertSame(['1'], array_values(array_unique(array_column($rows, 'attempts'))));
        // A contact's rows went to one process (one UPDATE takes them all).
        $byContact = [];
        foreach ($rows as $row) {
            $byContact[$row['contact_id']][$row['claim_token']] = true;
        }
        $this->assertSame([1], array_values(array_unique(array_map('count', $byContact))));
        // The row each process reports is the one the table says it holds.
        foreach ($rows as $row) {
            $this->assertContains((int) $row['id'], $row['claim_token'] === 'race-token-a' ? $a : $b);
        }
    }

    public function test_an_expired_lease_is_claimable_again_and_a_stale_token_settles_nothing(): void
    {
        [$id] = self::store([41 => 1]);
        // A worker claims for 3 s (and dies); inside the lease nobody else gets the row.
        [$first, $early] = WordPress::php("\$q = new WPF_Bridge_Queue(); return array( \$q->claim( 'mautic', '41', 'worker-that-dies', 3, 200 ), \$q->claim( 'mautic', '41', 'too-early', 300, 200 ) );");
        $this->assertSame([$id], array_column($first, 'id'));
        $this->assertSame([], $early);
        sleep(4);
        $result = WordPress::php(<<<'PHP'
            $q     = new WPF_Bridge_Queue();
            $due   = $q->due_contacts( 10 );
            $again = $q->claim( 'mautic', '41', 'second-worker', 300, 200 );
            // The first worker wakes up and settles with its stale token: nothing changes.
            $q->complete( 'worker-that-dies', array( $args[0] ), array( 'outcome' => 'created', 'user_id' => 5 ) );
            $q->retry( 'worker-that-dies', array( $args[0] ), $q->now() + 60, 'site_error', 'stale' );
            $q->fail( 'worker-that-dies', array( $args[0] ), 'site_error', 'stale' );
            $q->complete( '', array( $args[0] ), array( 'outcome' => 'created' ) );
            return array( 'due' => $due, 'again' => $again, 'after_stale' => $q->list( null, '41', 10 ) );
            PHP, [$id]);
        $this->assertSame([['crm' => 'mautic', 'contact_id' => '41']], $result['due']);
        // Rows carry their head; a row stored without one gives its data. The first claim died.
        $this->assertSame([[ 'id' => $id, 'attempts' => 2, 'dead_claims' => 1, 'head' => '{"v":0}']], $result['again']);
        $this->assertSame(['claimed', 'second-worker', '', ''], [$result['after_stale'][0]['state'], self::rows()[0]['claim_token'], self::rows()[0]['outcome'], self::rows()[0]['error_code']]);

        // The holder settles: done, with the outcome, the claim released.
        WordPress::php("( new WPF_Bridge_Queue() )->complete( 'second-worker', array( \$args[0] ), array( 'outcome' => 'updated', 'user_id' => 7 ) ); return true;", [$id]);
        $row = self::rows()[0];
        $this->assertSame(['done', 'updated', '7', '', '2'], [$row['state'], $row['outcome'], $row['user_id'], $row['claim_token'], $row['attempts']]);
        $this->assertSame([], WordPress::php("return ( new WPF_Bridge_Queue() )->claim( 'mautic', '41', 'third', 300, 200 );"), 'a done row is never claimed');
        $this->assertSame(1, WordPress::php("return ( new WPF_Bridge_Queue() )->count( 'done' );"));
    }

    public function test_ten_queued_versions_of_one_contact_are_one_apply_ending_at_the_newest(): void
    {
        FakeCrm::reset();
        WordPress::php(<<<'PHP'
            require_once ABSPATH . 'wp-admin/includes/user.php';
            foreach ( get_users( array( 'meta_key' => 'mautic_contact_id', 'meta_value' => (string) $args[0], 'fields' => 'ids' ) ) as $id ) {
                wp_delete_user( (int) $id );
            }
            return true;
            PHP, [self::CONTACT]);
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::CONTACT, 'queued91001@site.example', 'v0', 'Queue', []));
        $key = WordPress::accessKey();
        $base = strtotime('2030-02-01T00:00:00Z');
        $requests = [];
        foreach ([3, 7, 1, 10, 5, 2, 9, 4, 8, 6] as $v) {
            $body = json_encode(['mautic.lead_post_save_update' => [[
                'contact' => ['id' => self::CONTACT, 'fields' => ['core' => [
                    'email' => ['alias' => 'email', 'value' => 'queued91001@site.example'],
                    'firstname' => ['alias' => 'firstname', 'value' => "v$v"],
                    'lastname' => ['alias' => 'lastname', 'value' => 'Queue'],
                ]], 'tags' => [['tag' => "version-$v"]]],
                'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base + $v),
            ]]]);
            $requests[] = [
                'method' => 'POST',
                'query' => ['wpf_action' => 'add', 'access_key' => $key],
                'post' => [],
                'headers' => ['Content-Type' => 'application/json', 'Webhook-Signature' => base64_encode(hash_hmac('sha256', $body, self::SECRET, true))],
                'body' => $body,
            ];
        }
        $answers = WordPress::php(<<<'PHP'
            $settings = WPF_Bridge_Settings::for_extension( WPF_Bridge_Settings::effective() );
            $out = array();
            foreach ( $args as $request ) {
                $out[] = wpf_bridge_handle_queued( $request, $settings, new WPF_Bridge_Site(), new WPF_Bridge_Queue() );
            }
            return $out;
            PHP, $requests);
        foreach ($answers as $answer) {
            $this->assertSame(200, $answer['status'], json_encode($answer));
            $this->assertNull($answer['log'], 'the queue rows are the record: no log row');
            $this->assertSame((string) self::CONTACT, $answer['body']['queued'][0]['contact_id']);
        }
        $this->assertSame([], WordPress::userIdsWithMeta('mautic_contact_id', (string) self::CONTACT), 'queued, not applied yet');
        $this->assertCount(10, self::rows());

        // A later worker (another PHP process) drains.
        $report = WordPress::php(<<<'PHP'
            $settings = WPF_Bridge_Settings::for_extension( WPF_Bridge_Settings::effective() );
            return wpf_bridge_drain( $settings, new WPF_Bridge_Site(), new WPF_Bridge_Queue(), 50, 30 );
            PHP);
        $this->assertGreaterThan(0, $report['adapter_calls'] ?? 0, 'the report counts the calls into PHP');
        unset($report['adapter_calls']);
        $this->assertSame(['contacts' => 1, 'applies' => 1, 'done' => 10, 'retrying' => 0, 'failed' => 0, 'busy' => 0], $report);
        $users = WordPress::userIdsWithMeta('mautic_contact_id', (string) self::CONTACT);
        $this->assertCount(1, $users, 'one user for the contact');
        $user = WordPress::user($users[0]);
        $this->assertSame('v10', $user['first_name'], 'the newest version wins');
        $this->assertSameTags(['version-10'], $user['meta']['mautic_tags'] ?? null);
        $rows = self::rows();
        $this->assertSame(['done'], array_values(array_unique(array_column($rows, 'state'))));
        $this->assertSame(['created'], array_values(array_unique(array_column($rows, 'outcome'))));
        $this->assertSame([(string) $users[0]], array_values(array_unique(array_column($rows, 'user_id'))));

        // The CRM: no load (the payload carries the contact), one PATCH with the password.
        $calls = FakeCrm::requests();
        $this->assertSame(['PATCH'], array_column($calls, 'method'), FakeCrm::describe($calls));
        $password = self::rememberPassword((string) (json_decode($calls[0]['body'], true)['wp_password'] ?? ''));

        // No secret in any column of any row.
        $settings = WordPress::settings();
        $secrets = [
            'access key' => $key,
            'webhook secret' => self::SECRET,
            'CRM password' => (string) $settings['mautic_password'],
            'CRM username' => (string) $settings['mautic_username'],
            'generated password' => $password,
        ];
        foreach ($rows as $row) {
            foreach ($row as $column => $value) {
                foreach ($secrets as $what => $secret) {
                    $this->assertNotSame('', $secret);
                    $this->assertStringNotContainsString($secret, (string) $value, "the $what is in column $column of row {$row['id']}");
                }
            }
            $this->assertStringNotContainsString('Webhook-Signature', (string) $row['data']);
            $this->assertStringNotContainsString(base64_encode(hash_hmac('sha256', $requests[0]['body'], self::SECRET, true)), implode(' ', $row));
        }
    }

    /** Sets columns of one row straight in the table (states a test needs, times in the past). */
    private static function set(int $id, array $columns): void
    {
        $set = [];
        foreach ($columns as $column => $value) {
            $set[] = is_int($value) ? "$column = $value" : "$column = '" . addslashes($value) . "'";
        }
        WordPress::query('UPDATE ' . WordPress::table('wpf_bridge_queue') . ' SET ' . implode(', ', $set) . " WHERE id = $id");
    }

    /** One event in each state (ids in the order pending, claimed, retrying, done, failed). */
    private static function oneOfEach(): array
    {
        [$pending, $claimed, $retrying, $done, $failed] = self::store([61 => 1, 62 => 1, 63 => 1, 64 => 1, 65 => 1]);
        self::set($claimed, ['state' => 'claimed', 'claim_token' => 'held-by-a-worker', 'lease_until' => time() + 600, 'attempts' => 1]);
        self::set($retrying, ['state' => 'retrying', 'due_at' => time() + 3600, 'attempts' => 2, 'error_code' => 'crm_unavailable', 'error_message' => 'down']);
        self::set($done, ['state' => 'done', 'outcome' => 'updated', 'user_id' => 3, 'settled_at' => time(), 'attempts' => 1]);
        self::set($failed, ['state' => 'failed', 'attempts' => 7, 'error_code' => 'contact_without_email', 'error_message' => 'no email', 'settled_at' => time()]);
        return [$pending, $claimed, $retrying, $done, $failed];
    }

    /** @return array<int, array<string, string|null>> rows by id */
    private static function rowsById(): array
    {
        return array_column(self::rows(), null, 'id');
    }

    public function test_retry_sends_failed_and_retrying_events_back_due_now_and_never_touches_claimed_or_done_ones(): void
    {
        [$pending, $claimed, $retrying, $done, $failed] = self::oneOfEach();
        $before = self::rowsById();
        $result = WordPress::php(<<<'PHP'
            $q = new WPF_Bridge_Queue();
            $n = WPF_Bridge_Queue_Admin::requeue( $args );
            return array( 'requeued' => $n, 'now' => $q->now(), 'due' => $q->due_contacts( 10 ) );
            PHP, [$pending, $claimed, $retrying, $done, $failed, 0, -4, 999999]);
        $this->assertSame(2, $result['requeued']);
        $after = self::rowsById();
        foreach ([$retrying, $failed] as $id) {
            $row = $after[$id];
            $this->assertSame(['pending', '0', '', '', '0'], [$row['state'], $row['attempts'], $row['error_code'], $row['error_message'], $row['settled_at']], "event $id");
            $this->assertLessThanOrEqual($result['now'], (int) $row['due_at'], "event $id is due now by the database's clock");
        }
        foreach ([$pending, $claimed, $done] as $id) {
            $this->assertSame($before[$id], $after[$id], "event $id changed");
        }
        // Due at once: the next drain takes them (the pending one of contact 61 too).
        $this->assertEqualsCanonicalizing(['61', '63', '65'], array_column($result['due'], 'contact_id'));

        // Retry of every failed event (null): only failed ones, even with a retrying one about.
        self::set($retrying, ['state' => 'retrying', 'due_at' => time() + 3600]);
        self::set($failed, ['state' => 'failed']);
        $this->assertSame(1, WordPress::php('return WPF_Bridge_Queue_Admin::requeue( null );'));
        $after = self::rowsById();
        $this->assertSame(['retrying', 'pending'], [$after[$retrying]['state'], $after[$failed]['state']]);
        $this->assertSame(0, WordPress::php('return WPF_Bridge_Queue_Admin::requeue( null );'), 'nothing failed is left');
    }

    public function test_discard_deletes_waiting_and_failed_events_never_claimed_or_done_ones(): void
    {
        [$pending, $claimed, $retrying, $done, $failed] = self::oneOfEach();
        $this->assertSame(0, WordPress::php('return WPF_Bridge_Queue_Admin::discard( array( 0, -1, 999999 ) );'));
        $this->assertCount(5, self::rows());
        $this->assertSame(3, WordPress::php('return WPF_Bridge_Queue_Admin::discard( $args );', [$pending, $claimed, $retrying, $done, $failed]));
        $this->assertSame([$claimed, $done], array_map('intval', array_column(self::rows(), 'id')));

        // Every failed event (null): only failed ones.
        [$pending2, , , , $failed2] = self::oneOfEach();
        $this->assertSame(1, WordPress::php('return WPF_Bridge_Queue_Admin::discard( null );'));
        $left = array_map('intval', array_column(self::rows(), 'id'));
        $this->assertContains($pending2, $left);
        $this->assertNotContains($failed2, $left);
    }

    public function test_summary_counts_every_state_and_the_oldest_waiting_event(): void
    {
        $empty = WordPress::php('return WPF_Bridge_Queue_Admin::summary();');
        $this->assertSame(['pending' => 0, 'claimed' => 0, 'retrying' => 0, 'done' => 0, 'failed' => 0], $empty['counts']);
        $this->assertNull($empty['oldest_waiting_at']);
        [$pending, $claimed, $retrying, $done, $failed] = self::oneOfEach();
        self::set($claimed, ['accepted_at' => 1000]);
        self::set($done, ['accepted_at' => 500]);
        self::set($failed, ['accepted_at' => 400]);
        $summary = WordPress::php('return WPF_Bridge_Queue_Admin::summary();');
        $this->assertSame(['pending' => 1, 'claimed' => 1, 'retrying' => 1, 'done' => 1, 'failed' => 1], $summary['counts']);
        // Done and failed events do not wait: the oldest waiting one is the claimed one.
        $this->assertSame(1000, $summary['oldest_waiting_at']);
        $this->assertEqualsWithDelta(time(), $summary['now'], 5);
    }

    public function test_prune_deletes_done_and_failed_events_by_age_then_done_ones_beyond_the_cap(): void
    {
        $ids = self::store([71 => 6]);
        $now = time();
        // Done events settled 10, 9, ... 6 days ago, and the newest a minute ago.
        foreach (array_slice($ids, 0, 5) as $i => $id) {
            self::set($id, ['state' => 'done', 'settled_at' => $now - (10 - $i) * 86400]);
        }
        self::set($ids[5], ['state' => 'done', 'settled_at' => $now - 60]);
        // Waiting events are never pruned, however old; a failed one is, by age, like a done
        // one (issue 18: nothing else ever removed old failed rows).
        $others = self::oneOfEach();
        foreach ($others as $id) {
            self::set($id, ['accepted_at' => $now - 400 * 86400]);
        }
        self::set($others[3], ['settled_at' => $now - 60]);
        self::set($others[4], ['settled_at' => $now - 400 * 86400]);

        // By age: settled before 8 days ago (the done ones 10 and 9 days old, the failed one).
        $this->assertSame(3, WordPress::php('return WPF_Bridge_Retention::prune_queue( $args[0], 100 );', [$now - 8 * 86400]));
        $left = array_map('intval', array_column(self::rows(), 'id'));
        $this->assertSame(array_merge(array_slice($ids, 2), array_slice($others, 0, 4)), $left);
        // By the cap: the newest 2 done events stay (the one a minute old and the other done one).
        $this->assertSame(3, WordPress::php('return WPF_Bridge_Retention::prune_queue( 0, 2 );'));
        $left = array_map('intval', array_column(self::rows(), 'id'));
        $this->assertSame(array_merge([$ids[5]], array_slice($others, 0, 4)), $left);
        $this->assertSame(0, WordPress::php('return WPF_Bridge_Retention::prune_queue( 0, 2 );'), 'pruning again deletes nothing');
    }

    public function test_the_queue_tick_prunes_done_and_failed_events_older_than_keep_done_days(): void
    {
        WordPress::configure(['keep_done_days' => 3]);
        try {
            $ids = self::store([81 => 5]);
            self::set($ids[0], ['state' => 'done', 'settled_at' => time() - 4 * 86400]);
            self::set($ids[1], ['state' => 'done', 'settled_at' => time() - 2 * 86400]);
            self::set($ids[2], ['state' => 'failed', 'settled_at' => time() - 40 * 86400]);
            self::set($ids[3], ['state' => 'failed', 'settled_at' => time() - 2 * 86400]);
            self::set($ids[4], ['state' => 'retrying', 'accepted_at' => time() - 40 * 86400, 'settled_at' => time() - 40 * 86400]);
            WordPress::php("do_action( 'wpf_bridge_queue_tick' ); return true;");
            $this->assertSame([$ids[1], $ids[3], $ids[4]], array_map('intval', array_column(self::rows(), 'id')));
        } finally {
            WordPress::configure(['keep_done_days' => 30]);
        }
    }

    public function test_uninstall_drops_the_table_and_its_version_and_install_brings_them_back(): void
    {
        $result = WordPress::php(<<<'PHP'
            global $wpdb;
            $table  = $wpdb->prefix . 'wpf_bridge_queue';
            $exists = static fn () => $table === $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $table ) );
            $saved  = get_option( 'wpf_bridge_settings' );
            $before = $exists();
            define( 'WP_UNINSTALL_PLUGIN', plugin_basename( WPF_BRIDGE_PLUGIN_FILE ) );
            include WPF_BRIDGE_PLUGIN_DIR . '/uninstall.php';
            wp_cache_delete( 'alloptions', 'options' );
            $after   = $exists();
            $version = get_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION, 'gone' );
            // Put the site back for the classes after this one.
            update_option( 'wpf_bridge_settings', $saved );
            WPF_Bridge_Installer::install();
            return array( $before, $after, $version, $exists(), (int) get_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION ) );
            PHP);
        $this->assertSame([true, false, 'gone', true, 3], $result);
    }
}
