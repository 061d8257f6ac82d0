<?php
// The queue's accept side under attack and under faults (issue 18), on the real stack:
//   (3) nothing accepted can be stuck: a contact id over 64 bytes (64 x U+1F600 is 256 bytes,
//       over the varbinary(255) column that cut it) is refused 400 contact_id_too_long and
//       nothing is stored; an id that fits is stored byte for byte and applied; a row a
//       former version stored with a cut id is failed by the schema upgrade, with its code;
//   (4) backpressure: a contact at its cap, then the whole queue at its cap, answer 503
//       queue_full with Retry-After, nothing half-stored; Site Health turns critical; old
//       failed events are pruned by retention like done ones;
//   (5) the URL's role is bounded: 7,000 characters are refused 400 option_too_long, nothing
//       stored;
//   (7) one webhook, one copy: a CRM's retry of a delivery still waiting stores nothing (the
//       same ids are answered), and an INSERT that WordPress runs twice (as after a reconnect)
//       stores one row and is answered 200.
// While a test needs events to wait, it holds the drain lease (no request drains).
final class QueueIntakeTest extends E2eTestCase
{
    private static array $original = [];

    /** A must-use plugin that makes the queue's INSERT run twice (loaded before the loader). */
    private const DOUBLE_INSERT_PLUGIN = 'aaa-wpf-e2e-double-insert.php';

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(self::settings());
    }

    public static function tearDownAfterClass(): void
    {
        self::removeDoubleInsertPlugin();
        WordPress::php('WPF_Bridge_Settings::save( $args ); delete_option( "wpf_bridge_queue_load" ); return true;', self::$original);
        QueueTable::reset();
        FakeCrm::reset();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        QueueTable::reset();
        WordPress::configure(self::settings());
        WordPress::php('delete_option( "wpf_bridge_queue_load" ); return true;');
    }

    private static function settings(array $overrides = []): array
    {
        return WordPress::fakeCrmSettings('mautic', $overrides + [
            'return_password' => false,
            'return_password_field' => '',
            'processing' => 'background',
            'retry_delays' => [1, 2, 3],
            'claim_timeout' => 30,
            'max_waiting_events' => 100000,
            'max_waiting_bytes' => 536870912,
            'max_waiting_per_contact' => 1000,
        ]);
    }

    /** A one-contact Mautic update body: [id, email, firstname, tags, timestamp]. */
    private static function mauticUpdate(int|string $id, string $email, string $first, int $time): string
    {
        return json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $id, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => $email],
                'firstname' => ['alias' => 'firstname', 'value' => $first],
            ]], 'tags' => [['tag' => "tag-$first"]]],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $time),
        ]]]);
    }

    /** The queued ids of a 200 background answer. */
    private function queuedIds(HttpResponse $response): array
    {
        $this->assertSame(200, $response->status, $response->describe());
        $json = $response->json();
        $this->assertTrue($json['success'] ?? null, $response->describe());
        return array_map('intval', array_column($json['queued'] ?? [], 'id'));
    }

    /** Total bytes of the stored data. */
    private static function storedBytes(): int
    {
        return (int) WordPress::query('SELECT COALESCE(SUM(LENGTH(data)), 0) FROM ' . QueueTable::table())[0][0];
    }

    // ---- (3) contact ids in bytes --------------------------------------------------------

    public function test_a_contact_id_over_64_bytes_is_refused_and_one_that_fits_is_stored_byte_for_byte(): void
    {
        $lease = QueueTable::holdDrainLease();
        try {
            $long = str_repeat("\u{1F600}", 64); // 64 characters, 256 bytes
            $refused = (new Http())->get(self::webhookUrl('update', ['contact_id' => $long]));
            $this->assertWebhookError($refused, 400, 'contact_id_too_long');
            $this->assertStringContainsString('256 bytes', $refused->json()['message']);
            $this->assertSame([], QueueTable::counts(), 'a refused webhook stored events');

            // In a signed-or-not JSON payload too.
            $body = self::mauticUpdate(str_repeat("\u{1F600}", 17), 'emoji@example.com', 'E', time());
            $this->assertWebhookError(self::postJson(self::webhookUrl('update'), $body), 400, 'contact_id_too_long');
            $this->assertSame([], QueueTable::counts());

            // 16 emoji are 64 bytes: stored as sent, and findable by a claim.
            $fits = str_repeat("\u{1F600}", 16);
            [$id] = $this->queuedIds((new Http())->get(self::webhookUrl('update', ['contact_id' => $fits])));
            $hex = WordPress::query('SELECT HEX(contact_id) FROM ' . QueueTable::table() . " WHERE id = $id")[0][0];
            $this->assertSame(strtoupper(bin2hex($fits)), $hex, 'the contact id was not stored byte for byte');
        } finally {
            $lease->close();
        }
        // Its drain loads the contact from the CRM (unknown there: settled, not stuck).
        $wait = QueueTable::waitUntilSettled(60, 10);
        $this->assertSame(0, $wait['unsettled'], 'the event that fits was not settled: ' . json_encode(QueueTable::rows()));
    }

    public function test_the_schema_upgrade_fails_a_waiting_row_whose_contact_id_was_cut(): void
    {
        // What a former version left: the 64-emoji id (256 bytes) cut to 255 by the column (the
        // data keeps the whole id), and a 255-byte id that is whole (63 x U+1F600 and one
        // 3-byte character: 64 characters) beside it.
        $cut = str_repeat("\u{1F600}", 64);
        $whole = str_repeat("\u{1F600}", 63) . "\u{20AC}";
        $this->assertSame(255, strlen($whole));
        $ids = WordPress::php(<<<'PHP'
            global $wpdb;
            $ids = array();
            foreach ( $args as $i => $id ) {
                $data = wp_json_encode( array( 'format' => 1, 'crm' => 'mautic', 'action' => 'update', 'options' => array( 'role' => null, 'send_notification' => false, 'async' => null ), 'event' => array( 'type' => 'request', 'contact_id' => $id, 'email' => null, 'tags' => null, 'fields' => null, 'deleted' => false, 'timestamp' => null ), 'accepted_at' => time() ), JSON_UNESCAPED_UNICODE );
                // As the former store() did: one prepared INSERT, which MySQL cuts to the column.
                $wpdb->query( $wpdb->prepare( 'INSERT INTO ' . WPF_Bridge_Queue_Schema::name() . " (crm, contact_id, state, due_at, accepted_at, error_message, data) VALUES ('mautic', %s, 'pending', UNIX_TIMESTAMP(), UNIX_TIMESTAMP(), '', %s)", $id, $data ) );
                $ids[] = (int) $wpdb->insert_id;
            }
            // Back to schema 2, then the upgrade that runs on plugins_loaded.
            update_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION, 2 );
            WPF_Bridge_Installer::maybe_upgrade();
            return $ids;
            PHP, [$cut, $whole]);
        $rows = QueueTable::rows($ids);
        $this->assertSame('255', WordPress::query('SELECT LENGTH(contact_id) FROM ' . QueueTable::table() . " WHERE id = {$ids[0]}")[0][0], 'the setup did not reproduce the cut id');
        $this->assertSame(['failed', 'contact_id_too_long'], [$rows[$ids[0]]['state'], $rows[$ids[0]]['error_code']], 'the cut row: ' . json_encode($rows[$ids[0]]));
        $this->assertSame('pending', $rows[$ids[1]]['state'], 'a whole 255-byte id is not cut: ' . json_encode($rows[$ids[1]]));
        $this->assertSame('3', (string) WordPress::php('return get_option( WPF_Bridge_Queue_Schema::DB_VERSION_OPTION );'));
        $bytes = WordPress::query('SELECT bytes, LENGTH(data) FROM ' . QueueTable::table() . " WHERE id = {$ids[1]}")[0];
        $this->assertSame($bytes[1], $bytes[0], 'the upgrade did not record the waiting row\'s bytes');
        // The webhooks page lists the failed row; a drain no longer meets it.
        $listed = WordPress::php('return ( new WPF_Bridge_Queue() )->list( "failed", null, 10 );');
        $this->assertSame([$ids[0]], array_column($listed, 'id'));
    }

    // ---- (5) URL options bounded ---------------------------------------------------------

    public function test_a_7000_character_role_is_refused_and_a_bounded_one_costs_little(): void
    {
        $lease = QueueTable::holdDrainLease();
        try {
            $refused = (new Http())->get(self::webhookUrl('add', ['contact_id' => '71', 'role' => str_repeat('r', 7000)]));
            $this->assertWebhookError($refused, 400, 'option_too_long');
            $this->assertStringContainsString('role', $refused->json()['message']);
            $this->assertSame([], QueueTable::counts(), 'a refused webhook stored events');

            // 100 id-only events with the longest role accepted (100 bytes): what a replayed URL
            // can add is bounded (the issue measured 727,300 bytes with a 7,000-character role).
            $events = [];
            for ($i = 0; $i < 100; $i++) {
                $events[] = ['contact' => ['id' => 7100 + $i], 'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', 1900000000 + $i)];
            }
            $body = json_encode(['mautic.lead_post_save_update' => $events]);
            $ids = $this->queuedIds(self::postJson(self::webhookUrl('update', ['role' => str_repeat('r', 100)]), $body));
            $this->assertCount(100, $ids);
            $with = self::storedBytes();
            QueueTable::reset();
            $this->queuedIds(self::postJson(self::webhookUrl('update'), $body));
            $without = self::storedBytes();
            fwrite(STDERR, sprintf("\n[QueueIntakeTest] 100 id-only events, %d-byte request: stored %d bytes with a 100-byte role, %d without\n", strlen($body), $with, $without));
            $this->assertLessThanOrEqual($without + 100 * 110, $with, 'the role costs more than its bound per event');
        } finally {
            $lease->close();
        }
        QueueTable::reset();
    }

    // ---- (7) one webhook, one copy -------------------------------------------------------

    public function test_a_crm_retry_of_a_waiting_delivery_stores_nothing_twice(): void
    {
        $contact = 7301;
        $email = 'retry.twice@example.com';
        WordPress::deleteAllUsersButAdmin();
        $user = WordPress::createUser('retrytwice', $email, [], ['mautic_contact_id' => (string) $contact]);
        $body = self::mauticUpdate($contact, $email, 'First', 1900000100);
        $url = self::webhookUrl('update');

        $lease = QueueTable::holdDrainLease();
        try {
            $first = $this->queuedIds(self::postJson($url, $body));
            $again = $this->queuedIds(self::postJson($url, $body));
            $this->assertSame($first, $again, 'the retry was answered with other ids');
            $this->assertSame(['pending' => 1], QueueTable::counts(), 'the retry stored a second copy');
            // Another version of the contact is another delivery.
            $newer = $this->queuedIds(self::postJson($url, self::mauticUpdate($contact, $email, 'Second', 1900000200)));
            $this->assertNotSame($first, $newer);
            $this->assertSame(['pending' => 2], QueueTable::counts());
        } finally {
            $lease->close();
        }
        $this->assertSame(0, QueueTable::waitUntilSettled(60, 10)['unsettled']);
        $this->assertSame('Second', WordPress::user($user)['meta']['first_name'] ?? null);

        // Once applied, the same delivery is stored again (a later legit resend), and ignored
        // as stale: the user stays at the newest version.
        $later = $this->queuedIds(self::postJson($url, $body));
        $this->assertNotSame($first, $later);
        $this->assertSame(0, QueueTable::waitUntilSettled(60, 10)['unsettled']);
        $this->assertSame('Second', WordPress::user($user)['meta']['first_name'] ?? null);
        $this->assertSame(['done' => 3], QueueTable::counts());
    }

    public function test_an_insert_run_twice_as_after_a_reconnect_stores_one_copy(): void
    {
        // WordPress re-runs a query after reconnecting (wpdb::query on "server has gone away"):
        // the INSERT may then have been committed twice. This must-use plugin runs the queue's
        // INSERT once itself before wpdb runs it, which is what the server then sees.
        self::installDoubleInsertPlugin();
        $lease = QueueTable::holdDrainLease();
        try {
            $response = (new Http())->get(self::webhookUrl('update', ['contact_id' => '7401']));
            $ran = (int) WordPress::php('return (int) get_option( "wpf_e2e_double_inserts" );');
            $this->assertSame(1, $ran, 'the must-use plugin did not run the INSERT a second time');
            $ids = $this->queuedIds($response);
            $this->assertCount(1, $ids);
            $this->assertSame(['pending' => 1], QueueTable::counts(), 'the INSERT run twice stored two copies');
            $this->assertSame([$ids[0]], array_keys(QueueTable::rows()));
        } finally {
            $lease->close();
            self::removeDoubleInsertPlugin();
        }
    }

    private static function installDoubleInsertPlugin(): void
    {
        WordPress::php(<<<'PHP'
            delete_option( 'wpf_e2e_double_inserts' );
            $code = <<<'CODE'
            <?php
            // e2e only (QueueIntakeTest): runs the queue's INSERT once more, as WordPress does
            // after reconnecting, for the next webhook; then stands down.
            add_filter( 'query', static function ( $query ) {
                global $wpdb;
                if ( is_string( $query ) && 0 === strpos( $query, 'INSERT INTO ' . $wpdb->prefix . 'wpf_bridge_queue ' ) && ! get_option( 'wpf_e2e_double_inserts' ) ) {
                    update_option( 'wpf_e2e_double_inserts', 1, false );
                    mysqli_query( $wpdb->dbh, $query );
                }
                return $query;
            } );
            CODE;
            file_put_contents( WPMU_PLUGIN_DIR . '/' . $args[0], $code );
            return true;
            PHP, [self::DOUBLE_INSERT_PLUGIN]);
    }

    private static function removeDoubleInsertPlugin(): void
    {
        WordPress::php('@unlink( WPMU_PLUGIN_DIR . "/" . $args[0] ); delete_option( "wpf_e2e_double_inserts" ); return true;', [self::DOUBLE_INSERT_PLUGIN]);
    }

    // ---- (4) backpressure ------------------------------------------------------------------

    public function test_a_queue_at_its_caps_answers_503_with_retry_after_and_stores_nothing(): void
    {
        WordPress::configure(self::settings(['max_waiting_per_contact' => 3, 'max_waiting_events' => 5]));
        $maxAge = (int) WordPress::php('return WPF_Bridge_Extension::rules()["queue"]["load_max_age_seconds"] ?? 5;');
        $lease = QueueTable::holdDrainLease();
        try {
            // A contact at its cap: exact (counted through the contact index).
            for ($v = 1; $v <= 3; $v++) {
                $this->queuedIds(self::postJson(self::webhookUrl('update'), self::mauticUpdate(7501, 'cap@example.com', "v$v", 1900000000 + $v)));
            }
            $full = self::postJson(self::webhookUrl('update'), self::mauticUpdate(7501, 'cap@example.com', 'v4', 1900000004));
            $this->assertWebhookError($full, 503, 'queue_full');
            $this->assertSame('60', $full->header('retry-after'), $full->describe());
            $this->assertStringContainsString('contact 7501', $full->json()['message']);
            $this->assertSame(['pending' => 3], QueueTable::counts(), 'a refused webhook stored events');
            // Another contact still gets in.
            $this->queuedIds(self::postJson(self::webhookUrl('update'), self::mauticUpdate(7502, 'other@example.com', 'v1', 1900000001)));
            $this->queuedIds(self::postJson(self::webhookUrl('update'), self::mauticUpdate(7503, 'third@example.com', 'v1', 1900000001)));
            $this->assertSame(['pending' => 5], QueueTable::counts());

            // The whole queue at its cap (5): once the waiting totals are refreshed (at most
            // load_max_age_seconds old), a webhook for a new contact is refused whole.
            sleep($maxAge + 1);
            $batch = json_encode(['mautic.lead_post_save_update' => [
                ['contact' => ['id' => 7504], 'timestamp' => '2030-01-01T00:00:00+00:00'],
                ['contact' => ['id' => 7505], 'timestamp' => '2030-01-01T00:00:01+00:00'],
            ]]);
            $full = self::postJson(self::webhookUrl('update'), $batch);
            $this->assertWebhookError($full, 503, 'queue_full');
            $this->assertSame('60', $full->header('retry-after'));
            $this->assertStringContainsString('5 waiting, the limit is 5', $full->json()['message']);
            $this->assertSame(['pending' => 5], QueueTable::counts(), 'nothing of a refused batch may be stored');

            // Site Health turns critical and says why.
            $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
            $this->assertSame('critical', $health['status'] ?? null, json_encode($health));
            $this->assertStringContainsString('queue_full', json_encode($health));
        } finally {
            $lease->close();
        }
        // Drained, the queue takes webhooks again (after the totals are refreshed).
        $this->assertSame(0, QueueTable::waitUntilSettled(60, 5)['unsettled']);
        sleep($maxAge + 1);
        $this->queuedIds(self::postJson(self::webhookUrl('update'), $batch));
        $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
        $this->assertStringNotContainsString('queue_full', json_encode($health));
    }

    public function test_retention_prunes_old_failed_events_like_done_ones_and_never_waiting_ones(): void
    {
        $lease = QueueTable::holdDrainLease();
        try {
            foreach ([7601, 7602, 7603, 7604] as $contact) {
                $this->queuedIds((new Http())->get(self::webhookUrl('update', ['contact_id' => (string) $contact])));
            }
        } finally {
            $lease->close();
        }
        $this->assertSame(0, QueueTable::waitUntilSettled(60, 5)['unsettled']);
        $ids = array_keys(QueueTable::rows());
        // Old done, old failed, recent failed, and a waiting one accepted long ago.
        $old = QueueTable::now() - 31 * 86400;
        WordPress::query(sprintf("UPDATE %s SET state = 'done', settled_at = %d WHERE id = %d", QueueTable::table(), $old, $ids[0]));
        WordPress::query(sprintf("UPDATE %s SET state = 'failed', error_code = 'crm_rejected', settled_at = %d WHERE id = %d", QueueTable::table(), $old, $ids[1]));
        WordPress::query(sprintf("UPDATE %s SET state = 'failed', error_code = 'crm_rejected', settled_at = %d WHERE id = %d", QueueTable::table(), QueueTable::now(), $ids[2]));
        WordPress::query(sprintf("UPDATE %s SET state = 'retrying', due_at = %d, accepted_at = %d, settled_at = %d WHERE id = %d", QueueTable::table(), QueueTable::now() + 3600, $old, $old, $ids[3]));
        $deleted = (int) WordPress::php('return WPF_Bridge_Retention::prune();');
        $this->assertSame(2, $deleted);
        $this->assertSame([$ids[2], $ids[3]], array_keys(QueueTable::rows()));
    }
}
