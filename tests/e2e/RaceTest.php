<?php
// Finding 8 of issue 8: many versions of each linked contact sent over 16 connections at once
// (one contact's versions back to back, each with a later CRM timestamp). Every webhook must
// be answered 200 and every user must end at its contact's newest version once the queue has
// settled. Bounded:
// WPF_E2E_RACE_CONTACTS (default 200) x WPF_E2E_RACE_VERSIONS (default 5).
final class RaceTest extends E2eTestCase
{
    private const CONNECTIONS = 16;
    private const FIRST_CONTACT = 70000;

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'return_password' => false,
            'return_password_field' => '',
        ]));
        WordPress::deleteAllUsersButAdmin();
    }

    private static function setting(string $name, int $default): int
    {
        $value = getenv($name);
        return $value !== false && ctype_digit($value) && (int) $value > 0 ? (int) $value : $default;
    }

    public function test_racing_versions_of_each_contact_end_at_the_newest(): void
    {
        $contacts = self::setting('WPF_E2E_RACE_CONTACTS', 200);
        $versions = self::setting('WPF_E2E_RACE_VERSIONS', 5);
        $users = WordPress::php(<<<'PHP'
            $ids = array();
            for ( $i = 0; $i < $args[1]; $i++ ) {
                $contact = $args[0] + $i;
                $id = wp_insert_user( array( 'user_login' => "race$contact", 'user_email' => "race$contact@site.example", 'user_pass' => wp_generate_password( 24 ), 'first_name' => 'v0', 'role' => 'subscriber' ) );
                if ( is_wp_error( $id ) ) {
                    throw new RuntimeException( $id->get_error_message() );
                }
                update_user_meta( $id, 'mautic_contact_id', (string) $contact );
                $ids[ $contact ] = $id;
            }
            return $ids;
            PHP, [self::FIRST_CONTACT, $contacts], 300);
        $this->assertCount($contacts, $users);

        // Every version of a contact back to back; contacts one after another.
        $bodies = [];
        $base = strtotime('2030-01-01T00:00:00Z');
        for ($c = 0; $c < $contacts; $c++) {
            $contact = self::FIRST_CONTACT + $c;
            for ($v = 1; $v <= $versions; $v++) {
                $bodies[] = json_encode(['mautic.lead_post_save_update' => [[
                    'contact' => ['id' => $contact, 'fields' => ['core' => [
                        'email' => ['alias' => 'email', 'value' => "race$contact@site.example"],
                        'firstname' => ['alias' => 'firstname', 'value' => "v$v"],
                    ]], 'tags' => [['tag' => "version-$v"]]],
                    'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base + $v),
                ]]]);
            }
        }

        $started = microtime(true);
        $url = self::webhookUrl('update');
        $statuses = array_column(Load::post(array_map(static fn (string $body): array => [$url, $body], $bodies), self::CONNECTIONS), 'status');
        $seconds = microtime(true) - $started;
        fwrite(STDERR, sprintf("\n[RaceTest] %d contacts x %d versions = %d webhooks over %d connections in %.1f s (%.0f/s)\n",
            $contacts, $versions, count($bodies), self::CONNECTIONS, $seconds, count($bodies) / $seconds));
        $this->assertSame([200 => count($bodies)], array_count_values($statuses), 'every webhook must be answered 200');
        // Immediate processing answers a version whose contact was busy (an older version
        // held its lock) as `queued`: it is applied once its turn comes. The users are read
        // when the queue has settled (a CLI worker run only if nothing moves for 5 s).
        $wait = QueueTable::waitUntilSettled(60, 5);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting: ' . json_encode($wait));
        fwrite(STDERR, sprintf("[RaceTest] queue settled %.1f s after the last answer (%d CLI worker runs)\n", $wait['seconds'], $wait['worker_runs']));

        $rows = WordPress::query(sprintf("SELECT m.meta_value, f.meta_value FROM %s m JOIN %s f ON f.user_id = m.user_id AND f.meta_key = 'first_name' WHERE m.meta_key = 'mautic_contact_id' AND m.meta_value >= %d",
            WordPress::table('usermeta'), WordPress::table('usermeta'), self::FIRST_CONTACT));
        $stale = [];
        foreach ($rows as [$contact, $first]) {
            if ($first !== "v$versions") {
                $stale[] = "$contact=$first";
            }
        }
        $this->assertCount($contacts, $rows);
        $this->assertSame([], $stale, count($stale) . " of $contacts users ended at an older version");
    }
}
