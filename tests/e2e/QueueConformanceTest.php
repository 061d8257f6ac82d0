<?php
// The queue port's conformance suite (tests/conformance/queue.json) against the plugin's
// WPF_Bridge_Queue on the real WordPress and MariaDB: the scenarios the Rust in-memory queue
// (tests/queue_conformance.rs) and the PHPUnit ArrayQueue (tests/php/QueueConformanceTest.php)
// keep, run by the same PHP runner (tests/php/support/QueueConformance.php) inside WordPress.
// The table's clock is the database's: a scenario's `advance` moves every time stored in the
// table back instead (the same to the due rule); waiting_load() is asked for fresh figures.
final class QueueConformanceTest extends E2eTestCase
{
    /** @return array<string, array{0: array}> */
    public static function scenarios(): array
    {
        require_once __DIR__ . '/../php/support/QueueConformance.php';
        $out = [];
        foreach (QueueConformance::scenarios() as $scenario) {
            $out[$scenario['name']] = [$scenario];
        }
        return $out;
    }

    /** @dataProvider scenarios */
    public function test_the_mariadb_queue_keeps_the_contract(array $scenario): void
    {
        WordPress::query('TRUNCATE TABLE ' . WordPress::table('wpf_bridge_queue'));
        $failures = WordPress::php(<<<'PHP'
            require_once $args['runner'];
            delete_option( WPF_Bridge_Queue::LOAD_OPTION );
            $advance = static function ( int $seconds ): void {
                global $wpdb;
                $wpdb->query( $wpdb->prepare( 'UPDATE ' . WPF_Bridge_Queue_Schema::name() . ' SET due_at = due_at - %d, accepted_at = accepted_at - %d, lease_until = IF(lease_until = 0, 0, lease_until - %d), settled_at = IF(settled_at = 0, 0, settled_at - %d)', $seconds, $seconds, $seconds, $seconds ) );
            };
            $fresh = static fn () => delete_option( WPF_Bridge_Queue::LOAD_OPTION );
            return QueueConformance::run( $args['scenario'], new WPF_Bridge_Queue(), $advance, $fresh );
            PHP, ['runner' => realpath(__DIR__ . '/../php/support/QueueConformance.php'), 'scenario' => $scenario]);
        $this->assertSame([], $failures, $scenario['name']);
    }
}
