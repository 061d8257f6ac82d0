<?php
// kill -9 of MariaDB in the middle of a storm of background webhooks (issue 18), on the real
// stack: while 16 connections send Mautic updates, the database server is SIGKILLed and
// started again (tests/e2e/env/up.sh, which starts what is not running). Every webhook
// answered 200 ends applied (its queued rows exist and are done); every other answer is a
// 5xx, which the CRM retries; no delivery is stored twice (a PHP worker whose query died
// reconnects and runs it again). MariaDB is up again afterwards,
// so the classes after this one run as usual.
final class QueueDatabaseKillTest extends E2eTestCase
{
    private const CONNECTIONS = 16;
    private const CONTACTS = 100;
    private const VERSIONS = 8;
    /** MariaDB is killed once this many events are stored (a quarter into the storm). */
    private const KILL_AT_ROWS = 200;

    private static array $original = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'return_password' => false,
            'return_password_field' => '',
            'processing' => 'background',
            'retry_delays' => [1, 2, 3],
            'claim_timeout' => 30,
            'time_budget' => 20,
        ]));
        WordPress::deleteAllUsersButAdmin();
        QueueTable::reset();
    }

    public static function tearDownAfterClass(): void
    {
        WordPress::php('WPF_Bridge_Settings::save( $args ); return true;', self::$original);
        QueueTable::reset();
        FakeCrm::reset();
    }

    public function test_kill_9_of_mariadb_mid_storm_loses_no_webhook_answered_200(): void
    {
        $first = 96000;
        WordPress::php(<<<'PHP'
            for ( $i = 0; $i < $args[1]; $i++ ) {
                $contact = $args[0] + $i;
                $id = wp_insert_user( array( 'user_login' => "dbkill$contact", 'user_email' => "dbkill$contact@site.example", 'user_pass' => wp_generate_password( 24 ), 'first_name' => 'v0', 'role' => 'subscriber' ) );
                if ( is_wp_error( $id ) ) {
                    throw new RuntimeException( $id->get_error_message() );
                }
                update_user_meta( $id, 'mautic_contact_id', (string) $contact );
            }
            return true;
            PHP, [$first, self::CONTACTS], 300);

        mt_srand(18);
        $requests = [];
        $versions = [];
        $url = self::webhookUrl('update');
        $base = strtotime('2030-03-01T00:00:00Z');
        for ($v = 1; $v <= self::VERSIONS; $v++) {
            $order = range(0, self::CONTACTS - 1);
            shuffle($order);
            foreach ($order as $c) {
                $contact = $first + $c;
                $requests[] = [$url, json_encode(['mautic.lead_post_save_update' => [[
                    'contact' => ['id' => $contact, 'fields' => ['core' => [
                        'email' => ['alias' => 'email', 'value' => "dbkill$contact@site.example"],
                        'firstname' => ['alias' => 'firstname', 'value' => "v$v"],
                    ]], 'tags' => [['tag' => "version-$v"]]],
                    'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base + $v),
                ]]])];
                $versions[] = [$contact, $v];
            }
        }

        // The killer: once KILL_AT_ROWS events are stored, SIGKILL the server by its pid file,
        // then start it again with up.sh (bounded by timeout); its output goes to a log file.
        $pidFile = Env::get('WPF_E2E_DIR') . '/run/mariadb.pid';
        $this->assertFileExists($pidFile);
        $before = (int) trim((string) file_get_contents($pidFile));
        $log = Env::get('WPF_E2E_DIR') . '/logs/e2e-mariadb-kill.log';
        $count = sprintf('%s -N -B -e %s', escapeshellarg(Env::envScript('mysql.sh')), escapeshellarg('SELECT COUNT(*) FROM ' . QueueTable::table()));
        $script = sprintf('echo "waiting at $(date +%%T.%%N)"; for i in $(seq 1 600); do n="$(%s 2>/dev/null || echo 0)"; [ "$n" -ge %d ] && break; sleep 0.05; done; kill -9 "$(cat %s)"; echo "killed at $(date +%%T.%%N) with $n rows stored"; sleep 1; timeout 180 %s; echo "up.sh exit $? at $(date +%%T.%%N)"',
            $count, self::KILL_AT_ROWS, escapeshellarg($pidFile), escapeshellarg(Env::envScript('up.sh')));
        $killer = proc_open(['bash', '-c', $script], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        $this->assertIsResource($killer);

        $started = microtime(true);
        fwrite(STDERR, "\n[QueueDatabaseKillTest] storm starts at " . date('H:i:s', (int) $started) . "\n");
        try {
            $answers = Load::post($requests, self::CONNECTIONS, 300);
        } finally {
            $exit = proc_close($killer); // waits for up.sh
        }
        $sent = microtime(true) - $started;
        $this->assertSame(0, $exit, 'the kill-and-restart script failed: ' . file_get_contents($log));
        $after = (int) trim((string) file_get_contents($pidFile));
        $this->assertNotSame($before, $after, 'MariaDB was not restarted: ' . file_get_contents($log));

        $statuses = array_count_values(array_column($answers, 'status'));
        ksort($statuses);
        $other = array_filter(array_keys($statuses), static fn (int $s): bool => $s !== 200 && ($s < 500 || $s > 599));
        $this->assertSame([], array_values($other), 'answers other than 200 and 5xx: ' . json_encode($statuses));
        $this->assertGreaterThan(0, $statuses[200] ?? 0, 'no webhook was answered 200: ' . json_encode($statuses));
        // The kill hit the storm: it came once KILL_AT_ROWS were stored, before the last.
        // (Every answer may still be 200: a worker whose query failed waits up to 5 s in
        // wpdb::check_connection() and runs it again on the restarted server; the storm's
        // other requests wait for a worker meanwhile. That re-run is the duplicate INSERT of
        // issue 18, which the delivery keys turn into a no-op.)
        $this->assertMatchesRegularExpression('/killed at \S+ with (\d+) rows stored/', (string) file_get_contents($log));
        preg_match('/killed at \S+ with (\d+) rows stored/', (string) file_get_contents($log), $killed);
        $this->assertGreaterThanOrEqual(self::KILL_AT_ROWS, (int) $killed[1]);
        $this->assertLessThan(count($requests), (int) $killed[1], 'the kill came after the storm: ' . file_get_contents($log));

        $ids = [];
        $newest = [];
        foreach ($answers as $i => $answer) {
            if ($answer['status'] !== 200) {
                continue;
            }
            $json = json_decode($answer['body'], true);
            $queued = $json['queued'] ?? [];
            $this->assertCount(1, $queued, $answer['body']);
            $ids[] = (int) $queued[0]['id'];
            [$contact, $v] = $versions[$i];
            $newest[$contact] = max($newest[$contact] ?? 0, $v);
        }

        $wait = QueueTable::waitUntilSettled(240, 15);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting 240 s after the storm: ' . json_encode(QueueTable::counts()));
        $rows = QueueTable::rows($ids);
        $missing = array_values(array_diff($ids, array_keys($rows)));
        $this->assertSame([], $missing, 'webhooks answered 200 whose events are not in the queue');
        $states = array_count_values(array_column($rows, 'state'));
        $this->assertSame(['done' => count(array_unique($ids))], $states, 'webhooks answered 200 not applied');
        $twice = WordPress::query('SELECT delivery_key, COUNT(*) FROM ' . QueueTable::table() . ' GROUP BY delivery_key HAVING COUNT(*) > 1');
        $this->assertSame([], $twice, 'a delivery was stored twice');

        // Reported, not asserted here: whether each user shows the newest version answered 200
        // (the drain side's ordering under a lost connection is the other half of issue 18).
        $behind = [];
        foreach (WordPress::query(sprintf("SELECT m.meta_value, f.meta_value FROM %s m JOIN %s f ON f.user_id = m.user_id AND f.meta_key = 'first_name' WHERE m.meta_key = 'mautic_contact_id' AND CAST(m.meta_value AS UNSIGNED) BETWEEN %d AND %d",
            WordPress::table('usermeta'), WordPress::table('usermeta'), $first, $first + self::CONTACTS - 1)) as [$contact, $name]) {
            if (isset($newest[(int) $contact]) && (int) substr((string) $name, 1) < $newest[(int) $contact]) {
                $behind[] = "$contact=$name<v{$newest[(int) $contact]}";
            }
        }
        fwrite(STDERR, sprintf("\n[QueueDatabaseKillTest] %d webhooks over %d connections in %.1f s, MariaDB killed once %d events were stored (%d), and restarted: answers %s; %d events answered 200, all done; %d rows in the queue; settled %.1f s after the storm (%d CLI worker runs); users behind their newest 200 version: %d %s\n",
            count($requests), self::CONNECTIONS, $sent, self::KILL_AT_ROWS, (int) $killed[1], json_encode($statuses), count($ids), array_sum(QueueTable::counts()), $wait['seconds'], $wait['worker_runs'], count($behind), implode(' ', array_slice($behind, 0, 10))));
    }
}
