<?php
/**
 * Refused requests, counted cheaply: a webhook refused before authentication (wrong or
 * missing key or signature, unusable parameters) adds one to a counter per minute, reason
 * (the error code, the action and CRM asked for, the status) and source address, in the
 * table `{prefix}wpf_bridge_refusals` (ENGINE=MEMORY: no redo log, no fsync, so an anonymous
 * flood costs the site no durable write per request). The counters are folded into the log
 * table as one refused row per bucket, with its count (`hits`), by the queue's minute tick
 * and whenever the webhooks page shows the refused view; the log keeps the newest
 * WPF_Bridge_Log::MAX_REFUSED_ROWS of them.
 *
 * The counters live in the database server's memory: a restart of MariaDB loses the last
 * minute's counts (never a webhook: nothing refused was ever going to be stored). The table
 * holds at most the extension's `max_buckets` rows; past that, refusals of new buckets are not counted until
 * the next fold.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The refusal counters.
 */
final class WPF_Bridge_Refusals {

	/** Table name without the WordPress prefix. */
	public const TABLE = 'wpf_bridge_refusals';

	/**
	 * One of the extension's rules for the counters (wpf_bridge_rules()['refusals']):
	 * `bucket_seconds` (the time one counter covers) and `max_buckets` (the rows the table
	 * holds at most: MEMORY's MAX_ROWS).
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function rule( string $key ): int {
		return (int) WPF_Bridge_Extension::rule( 'refusals', $key );
	}

	/**
	 * Full table name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . self::TABLE;
	}

	/**
	 * Creates the table if it is missing (dbDelta cannot create a MEMORY table with its
	 * options; the columns never change without a new table name). Its MAX_ROWS is the
	 * extension's `max_buckets`; created before the extension is installed (activation works
	 * without it) it has none, and the database's max_heap_table_size bounds it instead.
	 */
	public static function create_table(): void {
		global $wpdb;
		$table = self::table();
		$most  = WPF_Bridge_Extension::rules()['refusals']['max_buckets'] ?? null;
		$wpdb->query( // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and constants.
			"CREATE TABLE IF NOT EXISTS {$table} (
  minute int unsigned NOT NULL,
  code varchar(64) NOT NULL,
  action varchar(32) NOT NULL,
  crm varchar(32) NOT NULL,
  status smallint unsigned NOT NULL,
  source varchar(45) NOT NULL,
  hits int unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, code, action, crm, status, source)
) ENGINE=MEMORY" . ( null === $most ? '' : ' MAX_ROWS=' . (int) $most ) . ' ' . $wpdb->get_charset_collate()
		);
	}

	/**
	 * Drops the table (uninstall).
	 */
	public static function drop_table(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
	}

	/**
	 * Counts one refused request: one statement on a MEMORY table, in the counter of its
	 * bucket (the extension's `bucket_seconds`). Never throws: a refusal that cannot be counted
	 * is still refused.
	 *
	 * @param array $log    The extension's log record (outcome: the error code, action, crm).
	 * @param int   $status The HTTP status sent.
	 */
	public static function record( array $log, int $status ): void {
		global $wpdb;
		try {
			$bucket = self::rule( 'bucket_seconds' );
		} catch ( \RuntimeException $e ) {
			return;
		}
		$suppress = $wpdb->suppress_errors( true );
		$wpdb->query(
			$wpdb->prepare(
				'INSERT INTO ' . self::table() . ' (minute, code, action, crm, status, source, hits) VALUES (%d, %s, %s, %s, %d, %s, 1) ON DUPLICATE KEY UPDATE hits = hits + 1', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
				intdiv( time(), $bucket ),
				mb_strcut( (string) ( $log['outcome'] ?? '' ), 0, 64 ),
				mb_strcut( (string) ( $log['action'] ?? '' ), 0, 32 ),
				mb_strcut( (string) ( $log['crm'] ?? '' ), 0, 32 ),
				$status,
				self::source()
			)
		);
		$wpdb->suppress_errors( $suppress );
	}

	/**
	 * Moves every counter into the log table: one refused row per bucket with its count, the
	 * busiest WPF_Bridge_Log::MAX_REFUSED_ROWS buckets at most (the log keeps no more); the
	 * others are summed into one row per code with no source address, so a flood from many
	 * addresses costs a bounded number of log writes. Each counter is lowered by what was
	 * moved (not deleted), so a refusal counted meanwhile is moved by the next fold, never
	 * lost or counted twice.
	 *
	 * @return int Refused requests moved.
	 */
	public static function fold(): int {
		global $wpdb;
		try {
			$bucket = self::rule( 'bucket_seconds' );
		} catch ( \RuntimeException $e ) {
			return 0;
		}
		$suppress = $wpdb->suppress_errors( true );
		$rows     = (array) $wpdb->get_results( 'SELECT minute, code, action, crm, status, source, hits FROM ' . self::table() . ' WHERE hits > 0 ORDER BY hits DESC, minute DESC', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$kept     = array_slice( $rows, 0, WPF_Bridge_Log::MAX_REFUSED_ROWS - 1 );
		$others   = array();
		foreach ( array_slice( $rows, WPF_Bridge_Log::MAX_REFUSED_ROWS - 1 ) as $row ) {
			$code = (string) $row['code'];
			if ( isset( $others[ $code ] ) ) {
				$others[ $code ]['hits']  += (int) $row['hits'];
				$others[ $code ]['minute'] = max( (int) $others[ $code ]['minute'], (int) $row['minute'] );
			} else {
				$others[ $code ] = array( 'source' => '' ) + $row;
			}
		}
		foreach ( array_merge( $kept, array_values( $others ) ) as $row ) {
			WPF_Bridge_Log::write(
				array(
					'time'    => gmdate( 'Y-m-d H:i:s', $bucket * (int) $row['minute'] ),
					'action'  => (string) $row['action'],
					'crm'     => (string) $row['crm'],
					'status'  => (int) $row['status'],
					'outcome' => (string) $row['code'],
					'refused' => true,
					'hits'    => (int) $row['hits'],
					'source'  => (string) $row['source'],
				)
			);
		}
		$moved = 0;
		foreach ( $rows as $row ) {
			$wpdb->query(
				$wpdb->prepare(
					'UPDATE ' . self::table() . ' SET hits = hits - %d WHERE minute = %d AND code = %s AND action = %s AND crm = %s AND status = %d AND source = %s', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
					(int) $row['hits'],
					(int) $row['minute'],
					$row['code'],
					$row['action'],
					$row['crm'],
					(int) $row['status'],
					$row['source']
				)
			);
			$moved += (int) $row['hits'];
		}
		$wpdb->query( 'DELETE FROM ' . self::table() . ' WHERE hits = 0' ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$wpdb->suppress_errors( $suppress );
		return $moved;
	}

	/**
	 * The address the request came from, as the web server saw it (behind a proxy, the
	 * proxy's): at most 45 characters, empty when there is none.
	 */
	private static function source(): string {
		$address = isset( $_SERVER['REMOTE_ADDR'] ) ? (string) $_SERVER['REMOTE_ADDR'] : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- validated as an IP below.
		return false === filter_var( $address, FILTER_VALIDATE_IP ) ? '' : substr( $address, 0, 45 );
	}
}
