<?php
// The webhook queue of the e2e site as the tests read it: its rows straight from
// {prefix}wpf_bridge_queue (SQL, no WordPress cache), the database clock, the sums of the
// drain reports kept by the env's mu-plugin (options wpf_e2e_drained_*), and the plugin's
// CLI worker (bin/worker.php), run as system cron would run it.
final class QueueTable
{
    /** States of an event not settled yet. */
    public const UNSETTLED = ['pending', 'retrying', 'claimed'];

    public static function table(): string
    {
        return WordPress::table('wpf_bridge_queue');
    }

    /** Empties the queue and the drain sums. */
    public static function reset(): void
    {
        WordPress::query('TRUNCATE TABLE ' . self::table());
        WordPress::query('DELETE FROM ' . WordPress::table('options') . " WHERE option_name LIKE 'wpf\\_e2e\\_drain%'");
    }

    /** @return array<string, int> state => events */
    public static function counts(): array
    {
        $counts = [];
        foreach (WordPress::query('SELECT state, COUNT(*) FROM ' . self::table() . ' GROUP BY state ORDER BY state') as [$state, $n]) {
            $counts[$state] = (int) $n;
        }
        return $counts;
    }

    public static function unsettled(): int
    {
        return (int) WordPress::query('SELECT COUNT(*) FROM ' . self::table() . " WHERE state IN ('" . implode("','", self::UNSETTLED) . "')")[0][0];
    }

    /**
     * Rows (without their data), by id; all of them when $ids is null.
     *
     * @return array<int, array<string, string>>
     */
    public static function rows(?array $ids = null): array
    {
        $columns = ['id', 'crm', 'contact_id', 'state', 'attempts', 'due_at', 'lease_until', 'accepted_at', 'settled_at', 'outcome', 'user_id', 'error_code'];
        $where = $ids === null ? '' : ' WHERE id IN (' . (implode(',', array_map('intval', $ids)) ?: '0') . ')';
        $rows = [];
        foreach (WordPress::query('SELECT ' . implode(', ', $columns) . ' FROM ' . self::table() . $where . ' ORDER BY id') as $row) {
            $rows[(int) $row[0]] = array_combine($columns, $row);
        }
        return $rows;
    }

    /** The database's clock (the queue's only clock). */
    public static function now(): int
    {
        return (int) WordPress::query('SELECT UNIX_TIMESTAMP()')[0][0];
    }

    /** @return array{drains: int, contacts: int, applies: int, done: int, retrying: int, failed: int, busy: int} */
    public static function drainSums(): array
    {
        $sums = array_fill_keys(['drains', 'contacts', 'applies', 'done', 'retrying', 'failed', 'busy'], 0);
        foreach (WordPress::query('SELECT option_name, option_value FROM ' . WordPress::table('options') . " WHERE option_name LIKE 'wpf\\_e2e\\_drained\\_%'") as [$name, $value]) {
            $sums[substr($name, strlen('wpf_e2e_drained_'))] = (int) $value;
        }
        return $sums;
    }

    /**
     * Takes the site's drain lease (the worker's MySQL named lock; its name read from
     * WPF_Bridge_Worker, the one place that makes it) on a connection of this process, so no
     * webhook request drains until the connection is closed.
     */
    public static function holdDrainLease(): mysqli
    {
        return self::holdLock((string) WordPress::php('return WPF_Bridge_Worker::lease_name();'), 30);
    }

    /**
     * Takes one contact's lock (the name the Site adapter gives it) on a connection of this
     * process, so no worker applies that contact until the connection is closed.
     */
    public static function holdContactLock(string $crm, string $contactId): mysqli
    {
        $name = (string) WordPress::php('$m = new ReflectionMethod( "WPF_Bridge_Site", "lock_name" ); $m->setAccessible( true ); return $m->invoke( null, $args[0] );', ["wpf_bridge_contact_{$crm}_{$contactId}"]);
        return self::holdLock($name, 5);
    }

    /** A new connection of this process to the site's database, as WordPress's user. */
    public static function connect(): mysqli
    {
        $db = mysqli_init();
        $db->real_connect('localhost', Env::get('WPF_E2E_DB_USER'), Env::get('WPF_E2E_DB_PASSWORD'), Env::get('WPF_E2E_DB_NAME'), 0, Env::get('WPF_E2E_DB_SOCKET'));
        return $db;
    }

    /** Takes the MySQL named lock $name on a new connection, waiting up to $wait seconds. */
    private static function holdLock(string $name, int $wait): mysqli
    {
        $db = self::connect();
        $got = $db->query("SELECT GET_LOCK('" . $db->real_escape_string($name) . "', $wait)")->fetch_row()[0] ?? null;
        if ((string) $got !== '1') {
            throw new RuntimeException("could not take the lock $name");
        }
        return $db;
    }

    /**
     * Runs the plugin's CLI worker (`php wp-content/plugins/wpf-bridge/bin/worker.php ARGS
     * --path=WP`) with the extension loaded, as system cron does.
     *
     * @return array{0: int, 1: string, 2: string} exit code, stdout, stderr
     */
    public static function runWorker(string ...$args): array
    {
        $wp = Env::get('WPF_E2E_WP_DIR');
        return Proc::run(array_merge(
            ['env', 'PHP_INI_SCAN_DIR=' . Env::get('WPF_E2E_PHP_INI_SCAN_DIR'), 'php', "$wp/wp-content/plugins/wpf-bridge/bin/worker.php"],
            $args ?: ['run'],
            ["--path=$wp"],
        ), 120);
    }

    /**
     * Waits until no event is pending, retrying or claimed, at most $timeout seconds. When
     * $stallSeconds > 0 and the number of unsettled events has not moved for that long, the
     * CLI worker is run once (as system cron would) and counted. Returns the seconds waited
     * and the worker runs; the caller asserts on the rows.
     *
     * @return array{seconds: float, worker_runs: int, unsettled: int}
     */
    public static function waitUntilSettled(float $timeout, float $stallSeconds = 0): array
    {
        $started = microtime(true);
        $runs = 0;
        $last = -1;
        $lastChange = $started;
        while (true) {
            $unsettled = self::unsettled();
            $now = microtime(true);
            if ($unsettled === 0 || $now - $started > $timeout) {
                return ['seconds' => $now - $started, 'worker_runs' => $runs, 'unsettled' => $unsettled];
            }
            if ($unsettled !== $last) {
                $last = $unsettled;
                $lastChange = $now;
            } elseif ($stallSeconds > 0 && $now - $lastChange >= $stallSeconds) {
                self::runWorker('run');
                $runs++;
                $lastChange = microtime(true);
            }
            usleep(250000);
        }
    }
}
