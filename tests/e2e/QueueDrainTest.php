<?php
// The drain under faults and races (issue 18, the drain's findings; issue 17, fresh settings),
// on the real stack: a long-lived draining request, a second applier (async=false, the second
// PHP server), a contact's backlog of 1 MB snapshots under php-fpm's memory limit, a drain
// that finds a contact busy until its budget ends, and a setting saved while a drain runs.
//   1. newest wins: a drain that read a user before another request applied a newer version
//      never applies an older one over it (the same server, and the second PHP server);
//   2. a contact's backlog of 150 updates of 1 MB each is drained in one turn, reading one
//      snapshot, well inside the memory limit;
//   6. a drain whose contact is busy elsewhere pauses between passes, even in its last second;
//   17.4 a setting saved during a drain (another CRM) applies to the next contact drained.
final class QueueDrainTest extends E2eTestCase
{
    private const BASE = 1893456000; // 2030-01-01T00:00:00Z

    private static array $original = [];

    /** @var resource[] background senders still running */
    private array $tickers = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
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
        WordPress::configure(self::settings());
    }

    protected function tearDown(): void
    {
        foreach ($this->tickers as $ticker) {
            proc_terminate($ticker);
            proc_close($ticker);
        }
        $this->tickers = [];
        QueueTable::waitUntilSettled(30);
    }

    private static function settings(array $overrides = []): array
    {
        return WordPress::fakeCrmSettings('mautic', $overrides + [
            'return_password' => false,
            'return_password_field' => '',
            'processing' => 'background',
            'retry_delays' => [1, 2, 3],
            'claim_timeout' => 30,
            'time_budget' => 20,
        ]);
    }

    private static function stamp(int $minute): string
    {
        return gmdate('Y-m-d\TH:i:s+00:00', self::BASE + 60 * $minute);
    }

    /** A Mautic update of one contact: its name, tags [name] and CRM time; $extra core fields. */
    private static function update(int $contact, string $first, int $minute, array $extra = []): string
    {
        $core = ['email' => ['alias' => 'email', 'value' => "c$contact@example.com"], 'firstname' => ['alias' => 'firstname', 'value' => $first]];
        foreach ($extra as $alias => $value) {
            $core[$alias] = ['alias' => $alias, 'value' => $value];
        }
        return json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => $core], 'tags' => [['tag' => $first]]],
            'timestamp' => self::stamp($minute),
        ]]]);
    }

    /** Sends an update in the background; asserts it was queued; returns its queue id. */
    private function queueUpdate(int $contact, string $first, int $minute, string $base = ''): int
    {
        $url = self::webhookUrl('update');
        $response = self::postJson($base === '' ? $url : str_replace(Env::url(), $base, $url), self::update($contact, $first, $minute));
        $this->assertSame(200, $response->status, $response->describe());
        $queued = $response->json()['queued'] ?? [];
        $this->assertCount(1, $queued, $response->describe());
        return (int) $queued[0]['id'];
    }

    /** Polls until the event is settled (done or failed); returns its row. */
    private function settled(int $id, float $seconds = 15): array
    {
        $deadline = microtime(true) + $seconds;
        do {
            $row = QueueTable::rows([$id])[$id] ?? null;
            if ($row !== null && in_array($row['state'], ['done', 'failed'], true)) {
                return $row;
            }
            usleep(100000);
        } while (microtime(true) < $deadline);
        $this->fail("event $id was not settled within {$seconds} s: " . json_encode($row));
    }

    /**
     * Keeps a drain alive: a background update for $contact every 0.4 s for $seconds, from a
     * child process (so the draining request always has another round to do).
     */
    private function startTicker(int $contact, int $seconds): void
    {
        $url = self::webhookUrl('update');
        $code = <<<'PHP'
            [, $url, $contact, $until, $base] = $argv;
            for ($i = 1; microtime(true) < (float) $until; $i++) {
                $body = json_encode(['mautic.lead_post_save_update' => [['contact' => ['id' => (int) $contact, 'fields' => ['core' => ['firstname' => ['alias' => 'firstname', 'value' => "t$i"]]]], 'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', (int) $base + $i)]]]);
                $ch = curl_init($url);
                curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => ['Content-Type: application/json'], CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 10]);
                curl_exec($ch);
                usleep(400000);
            }
            PHP;
        $process = proc_open(['php', '-r', $code, '--', $url, (string) $contact, (string) (microtime(true) + $seconds), (string) self::BASE], [['pipe', 'r'], ['file', '/dev/null', 'w'], ['file', '/dev/null', 'w']], $pipes);
        $this->assertIsResource($process);
        $this->tickers[] = $process;
    }

    /** A user linked to $contact, at version 0: first name and tags `Zero`, CRM time stamp(0). */
    private static function userAtVersionZero(int $contact): int
    {
        return WordPress::createUser("tx$contact", "c$contact@example.com", ['first_name' => 'Zero'], [
            'mautic_contact_id' => (string) $contact,
            'mautic_tags' => ['Zero'],
            'wpf_bridge_mautic_event_time' => self::stamp(0),
        ]);
    }

    /** The user's name, tags and stored CRM time, read by a fresh WordPress process. */
    private static function state(int $user): array
    {
        $u = WordPress::user($user);
        return [$u['first_name'], array_values((array) ($u['meta']['mautic_tags'] ?? [])), $u['meta']['wpf_bridge_mautic_event_time'] ?? null];
    }

    /** Finding 1, with the newer version applied by $applyNewer. */
    private function assertNewestWinsOverALongLivedDrain(int $contact, callable $applyNewer): void
    {
        $user = WordPress::createUser("c$contact", "c$contact@example.com", ['first_name' => 'Fifty'], [
            'mautic_contact_id' => (string) $contact, 'mautic_tags' => ['Fifty'], 'wpf_bridge_mautic_event_time' => self::stamp(50),
        ]);
        $this->startTicker($contact + 1, 15);
        sleep(1);
        // A late version 10: the draining request reads the user (at 50) and ignores it.
        $late = $this->settled($this->queueUpdate($contact, 'Ten', 10));
        $this->assertSame(['done', 'ignored'], [$late['state'], $late['outcome']], json_encode($late));
        // Version 70 applied by another request while that drain lives on.
        $applyNewer();
        $this->assertSame(['Bob', ['Bob'], self::stamp(70)], self::state($user));
        // Version 60, drained by the same long-lived request: older than what the user holds.
        $sixty = $this->settled($this->queueUpdate($contact, 'Carol', 60));
        $this->assertSame(['done', 'ignored'], [$sixty['state'], $sixty['outcome']], 'version 60 was applied over version 70: ' . json_encode($sixty));
        $this->assertSame(['Bob', ['Bob'], self::stamp(70)], self::state($user), 'the user went back in time');
        $drains = QueueTable::drainSums()['drains'];
        fwrite(STDERR, sprintf("\n[QueueDrainTest] newest wins over a long-lived drain (%d drain passes meanwhile)\n", $drains));
    }

    public function test_1_an_older_version_never_overwrites_one_applied_by_an_immediate_request(): void
    {
        $contact = 95001;
        $this->assertNewestWinsOverALongLivedDrain($contact, function () use ($contact): void {
            $response = self::postJson(self::webhookUrl('update', ['async' => 'false']), self::update($contact, 'Bob', 70));
            $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
            $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        });
    }

    public function test_1_an_older_version_never_overwrites_one_applied_by_the_second_server(): void
    {
        $second = rtrim((string) getenv('WPF_E2E_URL2'), '/');
        if ($second === '') {
            $this->markTestSkipped('no second PHP server (WPF_E2E_PORT2=0)');
        }
        $contact = 95011;
        $this->assertNewestWinsOverALongLivedDrain($contact, function () use ($contact, $second): void {
            $url = str_replace(Env::url(), $second, self::webhookUrl('update', ['async' => 'false']));
            $response = self::postJson($url, self::update($contact, 'Bob', 70));
            $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
            $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        });
    }

    public function test_2_a_contacts_backlog_of_1_mb_updates_is_drained_inside_the_memory_limit(): void
    {
        $contact = 95021;
        $count = 150;
        $user = WordPress::createUser("c$contact", "c$contact@example.com", [], ['mautic_contact_id' => (string) $contact]);
        $bio = str_repeat('b', 1000 * 1000);
        $lastLog = WordPress::lastLogId();
        // The backlog builds while nobody drains (the bench's way: the drain lease held).
        $lease = QueueTable::holdDrainLease();
        $http = new Http();
        for ($v = 1; $v <= $count; $v++) {
            $response = $http->request('POST', self::webhookUrl('update'), self::update($contact, "v$v", $v, ['bio' => $bio]), ['Content-Type' => 'application/json']);
            $this->assertSame(200, $response->status, $response->describe());
        }
        $bytes = (int) WordPress::query('SELECT SUM(LENGTH(data)) FROM ' . QueueTable::table())[0][0];
        $this->assertGreaterThan($count * 1000 * 1000, $bytes);
        $lease->close();

        // The next webhook's request drains: one claim of 150 heads, one 1 MB snapshot read.
        $this->queueUpdate($contact + 1, 'trigger', 1);
        $wait = QueueTable::waitUntilSettled(60);
        $this->assertSame(0, $wait['unsettled'], 'the backlog was not drained: ' . json_encode(QueueTable::counts()));
        $this->assertSame(['done' => $count + 1], QueueTable::counts());
        $this->assertSame("v$count", self::state($user)[0]);
        $sums = QueueTable::drainSums();
        $this->assertSame(0, $sums['failed'], json_encode($sums));
        $errors = array_filter(WordPress::logRows(), static fn (array $row): bool => (int) $row['id'] > $lastLog && $row['outcome'] === 'drain_error');
        $this->assertSame([], $errors, 'a drain stopped on an error');
        $peak = (int) (WordPress::query('SELECT option_value FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_e2e_drain_peak_bytes'")[0][0] ?? 0);
        $limit = (string) WordPress::php('return ini_get( "memory_limit" );');
        fwrite(STDERR, sprintf("\n[QueueDrainTest] %d updates of 1 MB (%.0f MB stored) drained in %.1f s; drain peak memory %.1f MB (php-fpm memory_limit %s)\n", $count, $bytes / 1e6, $wait['seconds'], $peak / 1e6, $limit));
        $this->assertGreaterThan(0, $peak);
        $this->assertLessThan(64 * 1000 * 1000, $peak, 'a drain held far more than one snapshot');
    }

    public function test_6_a_drain_pauses_between_passes_while_a_contact_is_busy_until_its_budget_ends(): void
    {
        $busy = 95031;
        WordPress::configure(self::settings(['time_budget' => 4]));
        $lock = QueueTable::holdContactLock('mautic', (string) $busy);
        $id = $this->queueUpdate($busy, 'Busy', 1);
        $started = microtime(true);
        sleep(7);
        $drains = QueueTable::drainSums()['drains'];
        fwrite(STDERR, sprintf("\n[QueueDrainTest] a 4 s drain with its only contact busy: %d drain passes\n", $drains));
        $this->assertGreaterThanOrEqual(1, $drains);
        $this->assertLessThanOrEqual(6, $drains, 'the drain spun: one pass per round pause at most');
        $this->assertSame('pending', QueueTable::rows([$id])[$id]['state'], 'a busy contact is left alone');
        $lock->close();
        [$exit, $out, $err] = QueueTable::runWorker('run');
        $this->assertSame(0, $exit, "$out\n$err");
        $this->assertSame('done', $this->settled($id)['state']);
        $this->assertLessThan(30, microtime(true) - $started);
    }

    public function test_17_a_setting_saved_during_a_drain_applies_to_the_next_contact(): void
    {
        $mautic = [95041, 95042, 95043, 95044, 95045];
        foreach ($mautic as $id) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, "m$id@example.com", 'Mau', 'Tic', ['m']));
        }
        $ue = FakeCrm::addUserEngageUser(['id' => 95050, 'key' => 'k95050', 'name' => 'Ula Ue', 'email' => 'ula@example.com', 'status' => 'user', 'attributes' => [], 'tags' => [], 'lists' => []]);
        // Each apply loads its contact from the CRM, which takes 1.5 s: the drain lasts.
        FakeCrm::control('POST', 'delay', ['ms' => 1500, 'count' => 20]);
        $lease = QueueTable::holdDrainLease();
        $ids = [];
        foreach (array_slice($mautic, 0, 4) as $id) {
            $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $id]), '');
            $this->assertSame(200, $response->status, $response->describe());
            $ids[] = (int) $response->json()['queued'][0]['id'];
        }
        $lease->close();
        $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $mautic[4]]), '');
        $this->assertSame(200, $response->status, $response->describe());
        $ids[] = (int) $response->json()['queued'][0]['id'];
        $this->settled($ids[0], 15);

        // The owner switches to User.com while the drain goes on; User.com sends a webhook.
        WordPress::configure(WordPress::fakeCrmSettings('userengage', ['processing' => 'background', 'return_password' => false, 'return_password_field' => '', 'time_budget' => 20]));
        $response = self::postJson(self::webhookUrl('add'), json_encode(['user' => ['id' => $ue]]));
        $this->assertSame(200, $response->status, $response->describe());
        $ueId = (int) $response->json()['queued'][0]['id'];

        $row = $this->settled($ueId, 30);
        $this->assertSame(['done', 'created'], [$row['state'], $row['outcome']], 'the User.com event was drained with the old settings: ' . json_encode($row));
        $this->assertSame(1, count(WordPress::userIdsWithMeta('userengage_contact_id', (string) $ue)));
        $failed = 0;
        foreach ($ids as $id) {
            $mrow = $this->settled($id, 30);
            if ($mrow['state'] === 'failed') {
                $this->assertSame('event_from_other_crm', $mrow['error_code']);
                $failed++;
            }
        }
        $this->assertGreaterThanOrEqual(1, $failed, 'no Mautic event was drained after the switch: the test did not race');
        foreach (FakeCrm::requests() as $request) {
            if (str_starts_with($request['path'], '/userengage/')) {
                $this->assertStringNotContainsString('9504', $request['path'], 'a Mautic contact was loaded from User.com');
            }
        }
        fwrite(STDERR, sprintf("\n[QueueDrainTest] CRM switched mid-drain: %d Mautic events failed event_from_other_crm, the User.com one applied\n", $failed));
    }

    public function test_17_an_apply_is_one_transaction_and_one_the_database_ended_keeps_nothing_and_is_retried(): void
    {
        $contact = 95100;
        $user = self::userAtVersionZero($contact);
        $lease = QueueTable::holdDrainLease();
        $id = $this->queueUpdate($contact, 'One', 1);
        // Another connection holds the row of the apply's last write (the CRM time), so that
        // write waits and times out after the name and the tags were written.
        $db = QueueTable::connect();
        $db->query('START TRANSACTION');
        $held = $db->query(sprintf("SELECT umeta_id FROM %s WHERE user_id = %d AND meta_key = 'wpf_bridge_mautic_event_time' FOR UPDATE", WordPress::table('usermeta'), $user))->fetch_all();
        $this->assertCount(1, $held);
        $drain = <<<'PHP'
            global $wpdb;
            $wpdb->query( 'SET SESSION innodb_lock_wait_timeout = 1' );
            return WPF_Bridge_Worker::drain( 30, 10 );
            PHP;
        $report = WordPress::php($drain);
        $db->query('ROLLBACK');
        $db->close();
        // Each of the apply's 3 runs (UNIT_TRIES) timed out on the held row: then it waits.
        $this->assertSame([1, 1, 0, 1], [$report['contacts'], $report['applies'], $report['done'], $report['retrying']], json_encode($report));
        $row = QueueTable::rows([$id])[$id];
        $this->assertSame(['retrying', 'site_error'], [$row['state'], $row['error_code']], json_encode($row));
        $message = (string) WordPress::query('SELECT error_message FROM ' . QueueTable::table() . ' WHERE id = ' . (int) $id)[0][0];
        $this->assertStringContainsString('3 times', $message);
        $this->assertSame(['Zero', ['Zero'], self::stamp(0)], self::state($user), 'the writes before the timed-out one were kept: the apply was not one unit');

        // Its retry (due after 1 s) applies the whole update.
        sleep(2);
        $report = WordPress::php($drain);
        $lease->close();
        $this->assertSame([1, 1], [$report['applies'], $report['done']], json_encode($report));
        $this->assertSame('done', QueueTable::rows([$id])[$id]['state']);
        $this->assertSame(['One', ['One'], self::stamp(1)], self::state($user));
    }

    public function test_17_an_apply_the_database_ended_runs_again_at_once_and_is_applied_in_the_same_drain(): void
    {
        $contact = 95110;
        $user = self::userAtVersionZero($contact);
        $lease = QueueTable::holdDrainLease();
        $id = $this->queueUpdate($contact, 'One', 1);
        $marker = tempnam(sys_get_temp_dir(), 'wpf-e2e-drain-');
        chmod($marker, 0666);
        // Another process holds the row of the apply's last write until 1.5 s after the drain
        // starts: the apply's first run times out after 1 s and is rolled back; the next commits.
        $holder = proc_open(
            [PHP_BINARY, '-r', <<<'PHP'
                [, $user, $password, $name, $socket, $table, $id, $marker] = $argv;
                $db = mysqli_init();
                $db->real_connect('localhost', $user, $password, $name, 0, $socket);
                $db->query('START TRANSACTION');
                $rows = $db->query("SELECT umeta_id FROM $table WHERE user_id = " . (int) $id . " AND meta_key = 'wpf_bridge_mautic_event_time' FOR UPDATE")->num_rows;
                echo "held $rows\n";
                fflush(STDOUT);
                // Once the drain starts (it writes the marker), hold the row 1.5 s more: the apply's
                // first run times out after 1 s and is rolled back; the next run gets the row.
                for ($i = 0; $i < 600 && '' === (string) @file_get_contents($marker); $i++) {
                    usleep(50000);
                }
                usleep(1500000);
                $db->query('ROLLBACK');
                PHP,
                Env::get('WPF_E2E_DB_USER'), Env::get('WPF_E2E_DB_PASSWORD'), Env::get('WPF_E2E_DB_NAME'), Env::get('WPF_E2E_DB_SOCKET'), WordPress::table('usermeta'), (string) $user, $marker],
            [1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes
        );
        $this->assertSame("held 1\n", fgets($pipes[1]), 'the holder did not take the row');
        $started = microtime(true);
        $result = WordPress::php(<<<'PHP'
            global $wpdb;
            $wpdb->query( 'SET SESSION innodb_lock_wait_timeout = 1' );
            file_put_contents( $args[0], 'started' );
            $site   = new WPF_Bridge_Site();
            $report = wpf_bridge_drain( static fn () => WPF_Bridge_Settings::current_for_extension(), $site, new WPF_Bridge_Queue(), 10, 30 );
            return array( 'report' => $report, 'logs' => $site->log_lines() );
            PHP, [$marker]);
        $took = microtime(true) - $started;
        $holderSaid = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($holder);
        unlink($marker);
        $lease->close();
        $report = $result['report'];
        $this->assertSame([1, 1, 1, 0], [$report['contacts'], $report['applies'], $report['done'], $report['retrying']], json_encode($result));
        $this->assertSame('done', QueueTable::rows([$id])[$id]['state']);
        $this->assertSame(['One', ['One'], self::stamp(1)], self::state($user));
        $reruns = array_filter($result['logs'], static fn (array $line): bool => str_contains($line[1], 'running it again'));
        $this->assertNotEmpty($reruns, sprintf('the apply was not run again (drain took %.1f s): %s; the holder said: %s', $took, json_encode($result), $holderSaid));
        fwrite(STDERR, sprintf("\n[QueueDrainTest] an apply ended by a lock wait timeout ran %d more time(s) and was done %.1f s after the drain began\n", count($reruns), $took));
    }

    public function test_17_primed_contact_links_are_used_only_while_the_user_still_holds_them(): void
    {
        $a = WordPress::createUser('prime-a', 'prime-a@example.com', [], ['mautic_contact_id' => '95201']);
        $b = WordPress::createUser('prime-b', 'prime-b@example.com', [], ['mautic_contact_id' => '95202']);
        $found = WordPress::php(<<<'PHP'
            global $wpdb;
            [ $a, $b ] = $args;
            $site = new WPF_Bridge_Site();
            $site->prime_contact_links( 'mautic_contact_id', array( '95201', '95202', '95203' ) );
            // Meanwhile, another request moves 95202 from b to a new user c, and links 95203.
            $c = wp_insert_user( array( 'user_login' => 'prime-c', 'user_email' => 'prime-c@example.com', 'user_pass' => wp_generate_password() ) );
            $wpdb->update( $wpdb->usermeta, array( 'meta_value' => 'moved' ), array( 'user_id' => $b, 'meta_key' => 'mautic_contact_id' ) );
            $wpdb->insert( $wpdb->usermeta, array( 'user_id' => $c, 'meta_key' => 'mautic_contact_id', 'meta_value' => '95202' ) );
            $wpdb->insert( $wpdb->usermeta, array( 'user_id' => $c, 'meta_key' => 'mautic_contact_id', 'meta_value' => '95203' ) );
            $queries = $wpdb->num_queries;
            $site->lock( 'prime-test', 5 );
            $found = array(
                'a' => $site->find_user_by_meta( 'mautic_contact_id', '95201' ),
                'queries_a' => $wpdb->num_queries - $queries - 1,
                'b' => $site->find_user_by_meta( 'mautic_contact_id', '95202' ),
                'c' => $site->find_user_by_meta( 'mautic_contact_id', '95203' ),
                'unprimed' => $site->find_user_by_meta( 'mautic_contact_id', '95201' ),
                'new_c' => $c,
            );
            $site->unlock( 'prime-test' );
            return $found;
            PHP, [$a, $b]);
        $this->assertSame($a, $found['a'], 'a primed link the user still holds');
        $this->assertSame(1, $found['queries_a'], 'the primed answer was checked with one read of its meta, not a scan');
        $this->assertSame($found['new_c'], $found['b'], 'a primed link the user no longer holds was used');
        $this->assertSame($found['new_c'], $found['c'], 'a contact linked after priming was not found');
        $this->assertSame($a, $found['unprimed'], 'the usual lookup');
    }

    public function test_17_a_drain_whose_budget_ends_with_events_due_hands_over_at_once(): void
    {
        // 12 contacts, each loaded from a CRM that takes 0.5 s: far more than one 2 s drain.
        WordPress::configure(self::settings(['time_budget' => 2]));
        $contacts = range(95061, 95072);
        foreach ($contacts as $id) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, "h$id@example.com", 'Hand', 'Over', []));
        }
        FakeCrm::control('POST', 'delay', ['ms' => 500, 'count' => 100]);
        $lease = QueueTable::holdDrainLease();
        foreach ($contacts as $id) {
            $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $id]), '');
            $this->assertSame(200, $response->status, $response->describe());
        }
        $lease->close();
        $this->queueUpdate(95073, 'trigger', 1);
        // No WP-Cron here (DISABLE_WP_CRON) and no CLI worker: only hand-overs go on.
        $wait = QueueTable::waitUntilSettled(45);
        $sums = QueueTable::drainSums();
        fwrite(STDERR, sprintf("
[QueueDrainTest] %d slow applies with a 2 s budget: settled in %.1f s over %d drain passes
", count($contacts), $wait['seconds'], $sums['drains']));
        $this->assertSame(0, $wait['unsettled'], 'events waited for the minute tick: ' . json_encode(QueueTable::counts()));
        $this->assertSame(0, $wait['worker_runs']);
        $this->assertSame(['done' => count($contacts) + 1], QueueTable::counts());
        $this->assertSame([], WordPress::query('SELECT option_value FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_handover'"), 'a used hand-over token stayed');
        // A forged hand-over is an ordinary page view: no drain.
        $before = QueueTable::drainSums()['drains'];
        $response = (new Http())->get(Env::url() . '/?wpf_bridge_handover=' . str_repeat('0', 32));
        $this->assertNotSame(204, $response->status);
        sleep(1);
        $this->assertSame($before, QueueTable::drainSums()['drains']);
    }
}
