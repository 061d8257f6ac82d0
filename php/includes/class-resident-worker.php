<?php
/**
 * The resident worker: `php bin/worker.php run --loop` (or `wp wpf-bridge queue run --loop`),
 * for sites that want webhooks applied outside php-fpm, under a supervisor such as systemd
 * (bin/wpf-bridge-worker.service).
 *
 * It holds the drain lease for its whole life, so web requests only accept webhooks and never
 * drain (they find the lease taken), and WP-Cron's tick does not drain either. It drains
 * in rounds (the settings are read before each contact): back to back while a backlog lasts,
 * after a round pause once it has caught up (as a draining request does, so a burst's versions
 * of one contact are applied once), after the idle sleep when nothing is due. It bounds
 * itself: it ends after a number of contacts, a memory size or a lifetime, so its supervisor
 * starts a fresh process. SIGTERM or SIGINT ends it after the contact in hand.
 * It leaves a heartbeat (option `wpf_bridge_worker_heartbeat`, written with SQL, not
 * autoloaded) that Site Health and `worker.php status` read. If it dies, its database
 * connection closes, the lease is free again and web requests drain as before.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The long-running drain loop.
 */
final class WPF_Bridge_Resident_Worker {

	/** The heartbeat option. */
	public const HEARTBEAT_OPTION = 'wpf_bridge_worker_heartbeat';

	/**
	 * One of the extension's rules for the resident worker (wpf_bridge_rules()['resident']):
	 * `bounds` (the loop's defaults, by option name: max-contacts, max-memory in MiB,
	 * max-seconds, idle-sleep in seconds), `round_seconds` (one drain call at most before the
	 * loop looks at its bounds again), `heartbeat_every_seconds`, `heartbeat_stale_seconds` (a
	 * running worker's heartbeat older than this means it is gone) and `restart_within_seconds`
	 * (a stopped worker not followed by another within this long was not restarted).
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function rule( string $key ): mixed {
		return WPF_Bridge_Extension::rule( 'resident', $key );
	}

	/**
	 * The loop's default bounds (rule `bounds`): option name => whole number.
	 *
	 * @return array<string, int>
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function defaults(): array {
		return array_map( 'intval', (array) self::rule( 'bounds' ) );
	}

	/** Set by SIGTERM or SIGINT. */
	private static bool $stop = false;

	/**
	 * Runs the loop until a bound, a signal or an error ends it.
	 *
	 * @param array<string, int>     $bounds max-contacts, max-memory (MiB), max-seconds, idle-sleep (seconds); those not given are the extension's defaults.
	 * @param callable(string): void $out    Prints a line.
	 * @return string Why it ended.
	 * @throws \Throwable When the extension or the database fails (the heartbeat says so).
	 */
	public static function run( array $bounds, callable $out ): string {
		// Without a usable extension there are no bounds to run by: say why, as a drain would.
		WPF_Bridge_Worker::check_usable();
		$bounds  = array_map( 'intval', $bounds + self::defaults() );
		$round   = (int) self::rule( 'round_seconds' );
		$every   = (int) self::rule( 'heartbeat_every_seconds' );
		$started = microtime( true );
		$stats   = array(
			'pid'      => getmypid(),
			'host'     => (string) gethostname(),
			'started'  => (int) $started,
			'contacts' => 0,
			// How its heartbeat is to be judged, for Site Health and `status` in any PHP.
			'ages'     => array(
				'heartbeat_stale_seconds' => (int) self::rule( 'heartbeat_stale_seconds' ),
				'restart_within_seconds'  => (int) self::rule( 'restart_within_seconds' ),
			),
		);
		self::$stop = false;
		self::listen_for_signals();
		$out( sprintf( 'resident worker %d: draining until %d contacts, %d MiB or %d s', $stats['pid'], $bounds['max-contacts'], $bounds['max-memory'], $bounds['max-seconds'] ) );
		$beat = 0.0;
		try {
			while ( true ) {
				$ended = self::bound_reached( $bounds, $started, $stats['contacts'] );
				if ( null !== $ended ) {
					break;
				}
				if ( ! WPF_Bridge_Worker::holds_lease() ) {
					WPF_Bridge_Worker::try_lease();
				}
				if ( microtime( true ) - $beat >= $every ) {
					self::beat( $stats + array( 'state' => 'running' ) );
					$beat = microtime( true );
				}
				$budget             = (int) min( $round, max( 1, $bounds['max-seconds'] - ( microtime( true ) - $started ) ) );
				$began              = microtime( true );
				$report             = WPF_Bridge_Worker::drain(
					$budget,
					max( 1, $bounds['max-contacts'] - $stats['contacts'] ),
					static fn (): bool => ! self::$stop
				);
				$stats['contacts'] += (int) $report['contacts'];
				if ( 0 === (int) $report['contacts'] ) {
					self::sleep( $bounds['idle-sleep'] );
				} elseif ( microtime( true ) - $began < $budget ) {
					// Caught up: the round pause of a draining request, so the versions of a
					// burst that arrive meanwhile are applied together (one apply per contact).
					self::sleep( (float) WPF_Bridge_Worker::rule( 'round_pause_seconds' ) );
				}
			}
		} catch ( \Throwable $e ) {
			self::beat( $stats + array( 'state' => 'stopped', 'reason' => 'error' ) );
			WPF_Bridge_Worker::release_lease();
			throw $e;
		}
		self::beat( $stats + array( 'state' => 'stopped', 'reason' => $ended ) );
		WPF_Bridge_Worker::release_lease();
		$out( sprintf( 'resident worker %d: ended (%s) after %d contacts', $stats['pid'], $ended, $stats['contacts'] ) );
		return $ended;
	}

	/**
	 * The heartbeat, or null when no resident worker ever ran here.
	 *
	 * @return array{pid: int, host: string, started: int, contacts: int, ages?: array<string, int>, state: string, reason?: string, beat: int}|null
	 */
	public static function heartbeat(): ?array {
		global $wpdb;
		$raw   = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::HEARTBEAT_OPTION ) );
		$value = null === $raw ? null : maybe_unserialize( (string) $raw );
		return is_array( $value ) && isset( $value['beat'], $value['state'] ) ? $value : null;
	}

	/**
	 * Whether a resident worker is draining now: its heartbeat is fresh (rule
	 * `heartbeat_stale_seconds`). Without the extension none can be draining.
	 */
	public static function alive(): bool {
		$beat = self::heartbeat();
		return null !== $beat && 'running' === $beat['state'] && time() - (int) $beat['beat'] <= self::age( $beat, 'heartbeat_stale_seconds' );
	}

	/**
	 * One of the heartbeat's ages (`heartbeat_stale_seconds`, `restart_within_seconds`): as the
	 * worker that wrote it had it from its extension, so a PHP without the extension (the web
	 * server's, while the command line's runs the worker) judges it the same; for a heartbeat
	 * that carries none, this PHP's extension's, else 0.
	 */
	private static function age( array $beat, string $key ): int {
		return (int) ( $beat['ages'][ $key ] ?? WPF_Bridge_Extension::rules()['resident'][ $key ] ?? 0 );
	}

	/**
	 * For Site Health: a resident worker that ran here and is gone (its heartbeat stopped, or
	 * it ended and none followed), or null. Nothing is lost meanwhile: its lease is free, so
	 * web requests and WP-Cron drain the queue again.
	 */
	public static function problem(): ?string {
		$beat = self::heartbeat();
		if ( null === $beat || self::alive() ) {
			return null;
		}
		$ago = time() - (int) $beat['beat'];
		if ( 'stopped' === $beat['state'] && $ago <= self::age( $beat, 'restart_within_seconds' ) ) {
			return null;
		}
		return sprintf(
			/* translators: 1: process id, 2: host name, 3: a duration such as "5 mins" */
			__( 'The resident queue worker (process %1$d on %2$s) last reported %3$s ago and is not running: web requests and WP-Cron apply the webhooks meanwhile. Check its service (systemctl status wpf-bridge-worker); if you stopped using it, delete the option wpf_bridge_worker_heartbeat.', 'wpf-bridge' ),
			(int) $beat['pid'],
			(string) $beat['host'],
			human_time_diff( (int) $beat['beat'], time() )
		);
	}

	/**
	 * For Site Health: what a running resident worker is doing, or null when none runs.
	 */
	public static function status_line(): ?string {
		$beat = self::heartbeat();
		if ( null === $beat || ! self::alive() ) {
			return null;
		}
		return sprintf(
			/* translators: 1: process id, 2: host name, 3: number of contacts, 4: seconds */
			__( 'A resident queue worker (process %1$d on %2$s) applies the webhooks: %3$d contacts so far, last heartbeat %4$d s ago; web requests only accept them.', 'wpf-bridge' ),
			(int) $beat['pid'],
			(string) $beat['host'],
			(int) $beat['contacts'],
			max( 0, time() - (int) $beat['beat'] )
		);
	}

	/**
	 * Why the loop must end now, or null.
	 */
	private static function bound_reached( array $bounds, float $started, int $contacts ): ?string {
		if ( self::$stop ) {
			return 'signal';
		}
		if ( microtime( true ) - $started >= $bounds['max-seconds'] ) {
			return 'max-seconds';
		}
		if ( $contacts >= $bounds['max-contacts'] ) {
			return 'max-contacts';
		}
		if ( memory_get_usage( true ) >= $bounds['max-memory'] * 1024 * 1024 ) {
			return 'max-memory';
		}
		return null;
	}

	/**
	 * Writes the heartbeat (SQL: the option API would cache it in this long-lived process).
	 */
	private static function beat( array $stats ): void {
		global $wpdb;
		$stats['beat'] = time();
		$wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)", self::HEARTBEAT_OPTION, maybe_serialize( $stats ) ) );
	}

	/**
	 * SIGTERM and SIGINT end the loop after the contact in hand (where pcntl is available).
	 */
	private static function listen_for_signals(): void {
		if ( ! function_exists( 'pcntl_async_signals' ) ) {
			return;
		}
		pcntl_async_signals( true );
		foreach ( array( SIGTERM, SIGINT ) as $signal ) {
			pcntl_signal(
				$signal,
				static function (): void {
					self::$stop = true;
				}
			);
		}
	}

	/**
	 * Sleeps up to $seconds, waking at once on a signal.
	 */
	private static function sleep( float $seconds ): void {
		$until = microtime( true ) + max( 0, $seconds );
		while ( ! self::$stop && microtime( true ) < $until ) {
			usleep( 100000 );
		}
	}
}
