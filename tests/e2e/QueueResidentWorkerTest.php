<?php
// The resident worker (issue 17): `php bin/worker.php run --loop`, as systemd runs it. While
// it runs, php-fpm only accepts webhooks and never drains; it stops cleanly on SIGTERM after
// the contact in hand (nothing lost, nothing applied twice); it ends by itself at its bounds
// so that its supervisor (here: the test) starts a fresh one.
final class QueueResidentWorkerTest extends E2eTestCase
{
    private static array $original = [];

    /** @var array<int, array{0: resource, 1: string}> running workers: [process, log file] */
    private array $workers = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        WordPress::deleteAllUsersButAdmin();
    }

    public static function tearDownAfterClass(): void
    {
        WordPress::php('WPF_Bridge_Settings::save( $args ); return true;', self::$original);
        WordPress::query('DELETE FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        FakeCrm::reset();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        QueueTable::reset();
        WordPress::query('DELETE FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'processing' => 'background',
            'retry_delays' => [1, 2, 3],
            'claim_timeout' => 30,
            'time_budget' => 20,
            'return_password' => false,
            'return_password_field' => '',
        ]));
    }

    protected function tearDown(): void
    {
        foreach ($this->workers as [$process]) {
            if (proc_get_status($process)['running']) {
                proc_terminate($process, 9);
            }
            proc_close($process);
        }
        $this->workers = [];
        QueueTable::waitUntilSettled(30, 5);
    }

    /** Starts `worker.php run --loop` with $options; returns its index in $this->workers. */
    private function startWorker(string ...$options): int
    {
        $wp = Env::get('WPF_E2E_WP_DIR');
        $log = tempnam(sys_get_temp_dir(), 'wpf-resident-');
        $argv = array_merge(
            ['env', 'PHP_INI_SCAN_DIR=' . Env::get('WPF_E2E_PHP_INI_SCAN_DIR'), 'php', "$wp/wp-content/plugins/wpf-bridge/bin/worker.php", 'run', '--loop', "--path=$wp", '--idle-sleep=1'],
            $options,
        );
        $process = proc_open($argv, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        $this->assertIsResource($process);
        $this->workers[] = [$process, $log];
        $index = array_key_last($this->workers);
        $deadline = microtime(true) + 20;
        $pid = self::childPid($process);
        // Its first heartbeat (a worker with small bounds may already have ended).
        while ((int) (self::heartbeat()['pid'] ?? 0) !== $pid) {
            $this->assertLessThan($deadline, microtime(true), 'no heartbeat from the worker: ' . file_get_contents($log));
            usleep(100000);
        }
        return $index;
    }

    /** The PHP process's pid (proc_open runs `env`, which execs php: the same pid). */
    private static function childPid($process): int
    {
        return (int) proc_get_status($process)['pid'];
    }

    private static function heartbeat(): array
    {
        $rows = WordPress::query('SELECT option_value FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        return $rows ? (array) unserialize($rows[0][0], ['allowed_classes' => false]) : [];
    }

    /** Waits for worker $index to end; returns its exit code. */
    private function waitForExit(int $index, float $seconds): int
    {
        [$process, $log] = $this->workers[$index];
        $deadline = microtime(true) + $seconds;
        while (($status = proc_get_status($process))['running']) {
            $this->assertLessThan($deadline, microtime(true), "the worker did not end within {$seconds} s: " . file_get_contents($log));
            usleep(100000);
        }
        return (int) $status['exitcode'];
    }

    /** A Mautic `add` carrying the whole contact (no CRM call), version $v. */
    private static function add(int $contact, int $v): array
    {
        $body = json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => "r$contact@example.com"],
                'firstname' => ['alias' => 'firstname', 'value' => "v$v"],
            ]], 'tags' => [['tag' => "v$v"]]],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', 1893456000 + $v),
        ]]]);
        return [self::webhookUrl('add'), $body];
    }

    public function test_the_resident_worker_drains_a_storm_while_php_fpm_only_accepts(): void
    {
        $this->startWorker();
        $requests = [];
        for ($v = 1; $v <= 3; $v++) {
            foreach (range(96001, 96060) as $contact) {
                $requests[] = self::add($contact, $v);
            }
        }
        foreach (Load::post($requests, 16) as $answer) {
            $this->assertSame(200, $answer['status'], $answer['body']);
        }
        $wait = QueueTable::waitUntilSettled(60);
        $this->assertSame(0, $wait['unsettled'], json_encode(QueueTable::counts()));
        $this->assertSame(0, $wait['worker_runs']);
        $sums = QueueTable::drainSums();
        $this->assertSame(0, $sums['drains_web'] ?? 0, 'a php-fpm request drained while the resident worker ran: ' . json_encode($sums));
        $this->assertGreaterThan(0, $sums['drains_cli'] ?? 0);
        foreach (range(96001, 96060) as $contact) {
            $ids = WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact);
            $this->assertCount(1, $ids, "contact $contact: " . json_encode(QueueTable::rows()));
            $this->assertSame('v3', WordPress::user($ids[0])['first_name'], "contact $contact");
        }
        $health = (string) WordPress::php('$r = WPF_Bridge_Site_Health::run(); return $r["status"] . " " . $r["description"];');
        $this->assertStringContainsString('resident queue worker', $health);
        fwrite(STDERR, sprintf("\n[QueueResidentWorkerTest] 180 webhooks: settled in %.1f s, drains by php-fpm %d, by the resident worker %d\n", $wait['seconds'], $sums['drains_web'] ?? 0, $sums['drains_cli'] ?? 0));
    }

    public function test_sigterm_stops_the_worker_after_the_contact_in_hand_and_nothing_is_lost_or_applied_twice(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'processing' => 'background', 'retry_delays' => [1, 2, 3], 'claim_timeout' => 30,
            'return_password' => true, 'return_password_field' => 'wp_password',
        ]));
        $contacts = range(96101, 96112);
        foreach ($contacts as $id) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, "s$id@example.com", 'Sig', 'Term', []));
        }
        FakeCrm::control('POST', 'delay', ['ms' => 300, 'count' => 1000]);
        $first = $this->startWorker();
        foreach ($contacts as $id) {
            $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $id]), '');
            $this->assertSame(200, $response->status, $response->describe());
        }
        // Some applied, most still waiting: stop the worker as systemd does.
        $deadline = microtime(true) + 20;
        while (count(WordPress::query('SELECT 1 FROM ' . QueueTable::table() . " WHERE state = 'done'")) < 2) {
            $this->assertLessThan($deadline, microtime(true), 'the worker applied nothing');
            usleep(100000);
        }
        $stopped = microtime(true);
        proc_terminate($this->workers[$first][0], 15);
        $this->assertSame(0, $this->waitForExit($first, 15), file_get_contents($this->workers[$first][1]));
        $this->assertLessThan(5, microtime(true) - $stopped, 'SIGTERM did not end the worker after the contact in hand');
        $this->assertSame(['stopped', 'signal'], [self::heartbeat()['state'] ?? null, self::heartbeat()['reason'] ?? null]);
        $this->assertSame(0, QueueTable::counts()['claimed'] ?? 0, 'the stopped worker left events claimed');
        $this->assertGreaterThan(0, QueueTable::unsettled(), 'the storm ended before SIGTERM: the test did not race');

        // Its successor applies the rest: every contact once, every password returned once.
        $this->startWorker();
        $wait = QueueTable::waitUntilSettled(60);
        $this->assertSame(0, $wait['unsettled'], json_encode(QueueTable::counts()));
        $this->assertSame(['done' => count($contacts)], QueueTable::counts());
        foreach ($contacts as $id) {
            $this->assertCount(1, WordPress::userIdsWithMeta('mautic_contact_id', (string) $id), "contact $id");
            $patches = array_filter(FakeCrm::requests(), static fn (array $r): bool => $r['method'] === 'PATCH' && str_contains($r['path'], "/contacts/$id/"));
            $this->assertCount(1, $patches, "contact $id: password returned " . count($patches) . ' times');
        }
    }

    public function test_the_worker_ends_at_its_bounds_and_a_fresh_one_goes_on(): void
    {
        $requests = [];
        foreach (range(96201, 96208) as $contact) {
            $requests[] = self::add($contact, 1);
        }
        // The test holds the drain lease throughout: no web request or hand-over drains, and
        // only the workers (which drain whoever holds the lease) apply these events.
        $lease = QueueTable::holdDrainLease();
        foreach (Load::post($requests, 4) as $answer) {
            $this->assertSame(200, $answer['status'], $answer['body']);
        }
        $runs = 0;
        $reasons = [];
        while (QueueTable::unsettled() > 0) {
            $this->assertLessThan(4, $runs, 'eight contacts took more than three workers of three');
            $index = $this->startWorker('--max-contacts=3', '--max-seconds=10');
            $this->assertSame(0, $this->waitForExit($index, 30), file_get_contents($this->workers[$index][1]));
            $reasons[] = self::heartbeat()['reason'] ?? null;
            $runs++;
        }
        $this->assertSame(['max-contacts', 'max-contacts'], array_slice($reasons, 0, 2), json_encode($reasons));
        $this->assertSame(3, $runs);
        $this->assertSame(['done' => 8], QueueTable::counts());
        $lease->close();
        $index = $this->startWorker('--max-seconds=2');
        $started = microtime(true);
        $this->assertSame(0, $this->waitForExit($index, 15));
        $this->assertLessThan(6, microtime(true) - $started);
        $this->assertSame('max-seconds', self::heartbeat()['reason'] ?? null);
        // Gone for good: Site Health says so once the restart window has passed.
        WordPress::query('UPDATE ' . WordPress::table('options') . " SET option_value = REPLACE(option_value, '\"stopped\"', '\"running\"') WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        WordPress::query('UPDATE ' . WordPress::table('options') . " SET option_value = REGEXP_REPLACE(option_value, 's:4:\"beat\";i:[0-9]+;', 's:4:\"beat\";i:1000;') WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        $health = (string) WordPress::php('$r = WPF_Bridge_Site_Health::run(); return $r["status"] . " " . $r["description"];');
        $this->assertStringContainsString('is not running', $health);
    }
}
