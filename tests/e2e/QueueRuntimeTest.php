<?php
// The queue's runtime on the real site (issue 10): the must-use loader (installed on
// activation, removed on deactivation; webhooks accepted before the other plugins load, and
// still accepted without it), the triggers that drain the queue besides webhooks (the CLI
// worker bin/worker.php, which WP-CLI's `wp wpf-bridge queue` shares, and the WP-Cron minute
// tick), and a server that cannot end an answer early (PHP's built-in server, like mod_php).
final class QueueRuntimeTest extends E2eTestCase
{
    private const PLUGIN = 'wpf-bridge/wpf-bridge.php';
    private const PROBE = 'a-wpf-e2e-probe/probe.php';
    /** activate_plugin() and deactivate_plugins() live in wp-admin. */
    private const ADMIN = "require_once ABSPATH . 'wp-admin/includes/plugin.php';\n";

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', ['processing' => 'background']));
        FakeCrm::reset();
        // This class's contacts are 7700-7799: a rerun on a kept environment starts clean.
        WordPress::query('DELETE FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE contact_id LIKE '77__'");
        $users = WordPress::query('SELECT user_id FROM ' . WordPress::table('usermeta') . " WHERE meta_key = 'mautic_contact_id' AND meta_value LIKE '77__'");
        WordPress::php('require_once ABSPATH . "wp-admin/includes/user.php"; foreach ( $args as $id ) { wp_delete_user( (int) $id ); } return true;', array_column($users, 0));
        // A plugin that loads before wpf-bridge (alphabetically) and marks every answer: a
        // webhook answered without the mark was answered before the plugins loaded.
        $dir = Env::get('WPF_E2E_WP_DIR') . '/wp-content/plugins/' . dirname(self::PROBE);
        @mkdir($dir, 0755, true);
        file_put_contents($dir . '/probe.php', "<?php\n/* Plugin Name: wpf-e2e probe */\nheader('X-Wpf-E2e-Probe: plugins-loaded');\n");
        WordPress::php(self::ADMIN . 'return activate_plugin(' . var_export(self::PROBE, true) . ');');
    }

    public static function tearDownAfterClass(): void
    {
        WordPress::php(self::ADMIN . 'deactivate_plugins(' . var_export(self::PROBE, true) . '); WPF_Bridge_Installer::install(); return true;');
        $dir = Env::get('WPF_E2E_WP_DIR') . '/wp-content/plugins/' . dirname(self::PROBE);
        @unlink($dir . '/probe.php');
        @rmdir($dir);
    }

    private static function loaderPath(): string
    {
        return Env::get('WPF_E2E_WP_DIR') . '/wp-content/mu-plugins/wpf-bridge-loader.php';
    }

    /** A Mautic update payload for one contact, with its fields (no CRM call needed). */
    private static function mauticUpdate(int $contact, string $first): string
    {
        return json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => "runtime$contact@site.example"],
                'firstname' => ['alias' => 'firstname', 'value' => $first],
            ]], 'tags' => []],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00'),
        ]]]);
    }

    /** Polls until $done() is true or $seconds pass; returns its last value. */
    private static function eventually(callable $done, float $seconds = 15): bool
    {
        $deadline = microtime(true) + $seconds;
        while (!($ok = (bool) $done()) && microtime(true) < $deadline) {
            usleep(200000);
        }
        return $ok;
    }

    /** @return array<string, string> state => count of the queue's rows of one contact */
    private static function states(int $contact): array
    {
        $rows = WordPress::query('SELECT state, COUNT(*) FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE contact_id = '$contact' GROUP BY state");
        return array_column($rows, 1, 0);
    }

    /**
     * Stores webhooks through the real adapters without draining (the way a request does
     * before its answer), so a trigger under test finds them pending.
     *
     * @param list<array{0: array, 1: string}> $webhooks query parameters and body of each
     */
    private static function storeOnly(array $webhooks): array
    {
        return WordPress::php(<<<'PHP'
            $out = array();
            foreach ( $args as list( $query, $body ) ) {
                $request = array( 'method' => 'POST', 'query' => $query + array( 'access_key' => WPF_Bridge_Settings::effective()['access_key'] ), 'post' => array(), 'headers' => array( 'Content-Type' => 'application/json' ), 'body' => $body );
                $out[] = wpf_bridge_handle_queued( $request, WPF_Bridge_Settings::for_extension(), new WPF_Bridge_Site(), new WPF_Bridge_Queue() );
            }
            return $out;
            PHP, $webhooks);
    }

    /** Runs bin/worker.php as a system cron job would: plain PHP CLI, the site's own php.ini. */
    private static function worker(string ...$args): array
    {
        $script = Env::get('WPF_E2E_WP_DIR') . '/wp-content/plugins/wpf-bridge/bin/worker.php';
        return Proc::run(array_merge(['env', 'PHP_INI_SCAN_DIR=' . Env::get('WPF_E2E_PHP_INI_SCAN_DIR'), 'php', $script], $args), 120);
    }

    public function test_activation_installs_the_loader_and_deactivation_removes_it(): void
    {
        $this->assertFileExists(self::loaderPath(), 'activation installs the loader');
        $this->assertStringContainsString("'" . self::PLUGIN . "'", (string) file_get_contents(self::loaderPath()));
        $this->assertNotFalse(WordPress::php('return wp_next_scheduled("wpf_bridge_queue_tick");'), 'the minute tick is scheduled');

        $after = WordPress::php(self::ADMIN . 'deactivate_plugins(' . var_export(self::PLUGIN, true) . '); return array(file_exists(WPMU_PLUGIN_DIR . "/wpf-bridge-loader.php"), wp_next_scheduled("wpf_bridge_queue_tick"));');
        try {
            $this->assertSame([false, false], $after, 'deactivation removes the loader and the tick');
            // Inactive: the webhook URL is an ordinary page again, nothing is stored.
            $rows = WordPress::query('SELECT COUNT(*) FROM ' . WordPress::table('wpf_bridge_queue'))[0][0];
            $response = self::postJson(self::webhookUrl('update'), self::mauticUpdate(7700, 'Inactive'));
            $this->assertNotSame('{"success"', substr($response->body, 0, 10), $response->describe());
            $this->assertSame($rows, WordPress::query('SELECT COUNT(*) FROM ' . WordPress::table('wpf_bridge_queue'))[0][0]);
        } finally {
            WordPress::php(self::ADMIN . 'return activate_plugin(' . var_export(self::PLUGIN, true) . ');');
        }
        $this->assertFileExists(self::loaderPath(), 'activation installs it again');
    }

    public function test_a_background_webhook_is_accepted_before_the_other_plugins_and_still_without_the_loader(): void
    {
        $early = self::postJson(self::webhookUrl('update'), self::mauticUpdate(7701, 'Early'));
        $this->assertSame(200, $early->status, $early->describe());
        $this->assertSame('7701', $early->json()['queued'][0]['contact_id'] ?? null, $early->describe());
        $this->assertNull($early->header('x-wpf-e2e-probe'), 'answered by the must-use loader, before the other plugins loaded');

        // Immediate processing needs all of WordPress: answered on init, after the plugins.
        $immediate = self::postJson(self::webhookUrl('update', ['async' => 'false']), self::mauticUpdate(7701, 'Immediate'));
        $this->assertSame(200, $immediate->status, $immediate->describe());
        $this->assertSame('plugins-loaded', $immediate->header('x-wpf-e2e-probe'), $immediate->describe());

        // Without the loader (mu-plugins not writable, say) the plugin accepts when it loads.
        unlink(self::loaderPath());
        try {
            $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
            // Recommended on its own (critical only if the queue has failed events meanwhile).
            $this->assertNotSame('good', $health['status'], json_encode($health));
            $this->assertStringContainsString('webhook loader could not be written', $health['description']);
            $late = self::postJson(self::webhookUrl('update'), self::mauticUpdate(7702, 'Late'));
            $this->assertSame(200, $late->status, $late->describe());
            $this->assertSame('7702', $late->json()['queued'][0]['contact_id'] ?? null, $late->describe());
            $this->assertSame('plugins-loaded', $late->header('x-wpf-e2e-probe'), 'accepted when the plugin loaded');
            $this->assertTrue(self::eventually(fn () => self::states(7702) === ['done' => '1']), 'the event was never applied: ' . json_encode(self::states(7702)));
        } finally {
            WordPress::php('WPF_Bridge_Installer::install(); return true;');
        }
        $this->assertNull(WordPress::php('return WPF_Bridge_Loader::problem();'));
        $this->assertStringNotContainsString('webhook loader', WordPress::php('return WPF_Bridge_Site_Health::run();')['description']);
    }

    public function test_the_cli_worker_drains_reports_retries_and_discards(): void
    {
        // Two pending events (stored, not drained), one of them for a contact the CRM has
        // without an email (a "never" failure once applied).
        FakeCrm::addMauticContact(['id' => 7711, 'fields' => ['all' => ['id' => 7711, 'email' => '', 'firstname' => 'NoMail']], 'tags' => []]);
        // The drain lease, taken once a drain still running from the previous test (a
        // webhook's, for up to its time budget) has let it go: otherwise that drain could apply
        // these events before `status` reads them (seen in 2 of 3 full-suite runs).
        $lease = QueueTable::holdDrainLease();
        try {
            $stored = self::storeOnly([
                [['wpf_action' => 'update'], self::mauticUpdate(7710, 'Cli')],
                [['wpf_action' => 'add', 'contact_id' => '7711'], ''],
            ]);
            $this->assertSame([200, 200], array_column($stored, 'status'), json_encode($stored));
            $this->assertSame(['pending' => '1'], self::states(7710));

            [$exit, $out, $err] = self::worker('status');
            $this->assertSame(0, $exit, $out . $err);
            $this->assertMatchesRegularExpression('/^pending: [1-9]/m', $out);
            $this->assertMatchesRegularExpression('/^longest wait: \d+ s$/m', $out);
        } finally {
            $lease->close();
        }

        [$exit, $out, $err] = self::worker('run', '--budget=30');
        $this->assertSame(0, $exit, $out . $err);
        $this->assertMatchesRegularExpression('/^applies: [1-9]/m', $out);
        $this->assertSame(['done' => '1'], self::states(7710));
        $this->assertSame(['failed' => '1'], self::states(7711));
        $failed = (int) WordPress::query('SELECT id FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE contact_id = '7711'")[0][0];
        $this->assertSame('contact_without_email', WordPress::query('SELECT error_code FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE id = $failed")[0][0]);

        // The CRM's contact is fixed: retry applies it, once.
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(7711, 'runtime7711@site.example', 'Fixed', 'Mail', []));
        [$exit, $out, $err] = self::worker('retry', (string) $failed);
        $this->assertSame(0, $exit, $out . $err);
        $this->assertStringContainsString('queued again: 1', $out);
        $this->assertSame(['done' => '1'], self::states(7711));
        $this->assertCount(1, WordPress::userIdsWithMeta('mautic_contact_id', '7711'));

        // A failed event discarded by id is gone; a done one is never discarded.
        FakeCrm::addMauticContact(['id' => 7712, 'fields' => ['all' => ['id' => 7712, 'email' => '']], 'tags' => []]);
        self::storeOnly([[['wpf_action' => 'add', 'contact_id' => '7712'], '']]);
        self::worker('run');
        $this->assertSame(['failed' => '1'], self::states(7712));
        $id = WordPress::query('SELECT id FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE contact_id = '7712'")[0][0];
        [$exit, $out] = self::worker('discard', $id);
        $this->assertSame([0, "discarded: 1\n"], [$exit, $out]);
        $this->assertSame([], self::states(7712));
        [$exit, $out] = self::worker('discard', (string) $failed);
        $this->assertSame([0, "discarded: 0\n"], [$exit, $out], 'a done event is kept');

        // Bad arguments: exit 2 and nothing changes.
        foreach ([['bogus'], ['retry'], ['retry', '1', '--all-failed'], ['discard', '1;DROP'], ['run', '--budget=0'], ['run', '--nope']] as $args) {
            [$exit, , $err] = self::worker(...$args);
            $this->assertSame(2, $exit, implode(' ', $args) . ': ' . $err);
        }
        $this->assertSame(['done' => '1'], self::states(7711));
    }

    public function test_the_wp_cli_command_runs_the_same_code(): void
    {
        // WP-CLI is not installable here (it comes from Packagist): a stand-in with the four
        // WP_CLI methods the command uses records what `wp wpf-bridge queue ...` would do.
        $calls = WordPress::php(<<<'PHP'
            class WP_CLI {
                public static array $commands = array();
                public static array $lines = array();
                public static function add_command( $name, $callable, $args = array() ) { self::$commands[ $name ] = array( $callable, $args ); }
                public static function line( $text ) { self::$lines[] = 'line: ' . $text; }
                public static function warning( $text ) { self::$lines[] = 'warning: ' . $text; }
                public static function halt( $status ) { self::$lines[] = 'halt: ' . $status; }
            }
            WPF_Bridge_CLI::register_wp_cli();
            list( $command, $args ) = WP_CLI::$commands['wpf-bridge queue'];
            $command( array( 'run' ), array( 'budget' => '5' ) );
            $command( array( 'discard' ), array() );
            return array( 'names' => array_keys( WP_CLI::$commands ), 'doc' => $args['longdesc'] === WPF_Bridge_CLI::usage(), 'lines' => WP_CLI::$lines );
            PHP);
        $this->assertSame(['wpf-bridge queue'], $calls['names']);
        $this->assertTrue($calls['doc'], 'the help text is the CLI usage');
        $this->assertNotEmpty(preg_grep('/^line: applies: \d+$/', $calls['lines']), 'run printed its report: ' . json_encode($calls['lines']));
        $this->assertContains('warning: give event ids or --all-failed (not both)', $calls['lines']);
        $this->assertSame('halt: 2', end($calls['lines']), 'bad arguments halt with 2');
    }

    public function test_wp_cron_drains_the_queue_every_minute(): void
    {
        self::storeOnly([[['wpf_action' => 'update'], self::mauticUpdate(7720, 'Cron')]]);
        $this->assertSame(['pending' => '1'], self::states(7720));
        // Make the tick due now, then let WordPress's own cron runner (wp-cron.php) run it.
        $interval = WordPress::php('$s = wp_get_schedules(); wp_clear_scheduled_hook("wpf_bridge_queue_tick"); wp_schedule_event(time() - 1, "wpf_bridge_minute", "wpf_bridge_queue_tick"); return $s["wpf_bridge_minute"]["interval"];');
        $this->assertSame(60, $interval);
        $response = (new Http())->get(Env::url() . '/wp-cron.php');
        $this->assertSame(200, $response->status, $response->describe());
        $this->assertTrue(self::eventually(fn () => self::states(7720) === ['done' => '1']), 'the cron tick did not drain: ' . json_encode(self::states(7720)));
        $this->assertGreaterThan(time(), (int) WordPress::php('return wp_next_scheduled("wpf_bridge_queue_tick");'), 'the tick is scheduled again');
    }

    public function test_a_server_that_cannot_answer_early_applies_before_answering(): void
    {
        // PHP's built-in web server has no fastcgi_finish_request(), like mod_php: a background
        // webhook there would wait for the next tick, so it is applied before the answer.
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        $server = proc_open(['env', 'PHP_INI_SCAN_DIR=' . Env::get('WPF_E2E_PHP_INI_SCAN_DIR'), 'php', '-S', "127.0.0.1:$port", '-t', Env::get('WPF_E2E_WP_DIR')],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        try {
            $this->assertTrue(self::eventually(static fn () => @fsockopen('127.0.0.1', $port) !== false, 10), 'php -S did not start');
            $url = str_replace(Env::url(), "http://127.0.0.1:$port", self::webhookUrl('update'));
            $response = self::postJson($url, self::mauticUpdate(7730, 'Builtin'));
            $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
            $this->assertSame('ignored', $results[0]['outcome'], $response->describe() . ' (no user is linked to 7730)');
            $this->assertSame(['done' => '1'], self::states(7730), 'stored, then settled before the answer');
        } finally {
            proc_terminate($server);
            proc_close($server);
        }
    }
}
