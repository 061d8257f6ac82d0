<?php
/**
 * The table plumbing the plugin's own tables share (the log, WPF_Bridge_Log; the queue,
 * WPF_Bridge_Queue_Schema): the prefixed name, create or upgrade through dbDelta, the stored
 * schema version, drop, the database's clock, and for the queue's statements the error check
 * (a database error becomes a \RuntimeException whose message never holds the query), writes
 * run again when InnoDB picks them as a deadlock victim, and DELETEs in bounded batches.
 *
 * Each table's columns, indexes and upgrades stay with the class that owns the table; this
 * class knows no column.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * One of the plugin's tables.
 */
final class WPF_Bridge_Table {

	/** Tries of one write chosen as a deadlock victim. */
	private const DEADLOCK_TRIES = 4;

	/** Rows one DELETE of delete_in_batches() takes at most. */
	private const DELETE_BATCH = 5000;

	/**
	 * Seconds of DELETEs one delete_in_batches() call starts batches within: the minute tick
	 * must not be held long. Measured on the e2e stack (2 shared cores, rows of 1.5 KB): about
	 * 4,000 rows a second, so some 20,000 a call, more than a busy site settles in a minute; a
	 * backlog (a first run, after a storm) goes over a few ticks.
	 */
	private const DELETE_SECONDS = 5;

	/**
	 * @param string $name           Table name without the WordPress prefix.
	 * @param string $version_option Option holding the table's schema version.
	 * @param int    $version        The code's schema version.
	 */
	public function __construct(
		private string $name,
		private string $version_option,
		private int $version
	) {
	}

	/**
	 * Full table name (with this site's prefix).
	 */
	public function name(): string {
		global $wpdb;
		return $wpdb->prefix . $this->name;
	}

	/**
	 * The CREATE TABLE statement of $columns (column and key lines, in the format dbDelta()
	 * parses: two spaces after PRIMARY KEY), with the site's charset.
	 */
	private function create_statement( string $columns ): string {
		global $wpdb;
		return 'CREATE TABLE ' . $this->name() . " (\n" . trim( $columns, "\n" ) . "\n) " . $wpdb->get_charset_collate() . ';';
	}

	/**
	 * Creates the table or brings it to $columns (dbDelta adds columns and keys, never drops).
	 */
	public function create( string $columns ): void {
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		dbDelta( $this->create_statement( $columns ) );
	}

	/**
	 * The schema version stored for this table (0 when none is).
	 */
	public function stored_version(): int {
		return (int) get_option( $this->version_option, 0 );
	}

	/**
	 * Records the code's schema version (autoloaded: read on every load).
	 */
	public function record_version(): void {
		update_option( $this->version_option, $this->version, true );
	}

	/**
	 * Whether the stored schema version is the code's.
	 */
	public function is_current(): bool {
		return $this->stored_version() === $this->version;
	}

	/**
	 * Drops the table and its version option (uninstall).
	 */
	public function drop(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . $this->name() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		delete_option( $this->version_option );
	}

	/**
	 * The database's clock, in Unix seconds (the same for every PHP server on this database).
	 *
	 * @throws RuntimeException When it cannot be read.
	 */
	public static function now(): int {
		global $wpdb;
		$wpdb->flush();
		$now = $wpdb->get_var( 'SELECT UNIX_TIMESTAMP()' );
		self::check( 'Could not read the database clock' );
		if ( null === $now ) {
			throw new RuntimeException( 'Could not read the database clock' );
		}
		return (int) $now;
	}

	/**
	 * Turns the last database error into an exception (the query text is not included).
	 *
	 * @throws RuntimeException When the last statement failed.
	 */
	public static function check( string $what ): void {
		global $wpdb;
		if ( '' !== (string) $wpdb->last_error ) {
			throw new RuntimeException( $what . ': database error' );
		}
	}

	/**
	 * Runs one UPDATE, DELETE or INSERT (a transaction of its own under autocommit). InnoDB may
	 * pick it as the victim of a deadlock with another worker's statement, which rolls it back
	 * whole: then it is run again, a few times, before giving up.
	 *
	 * @return int Rows changed.
	 * @throws RuntimeException When it failed.
	 */
	public static function write( string $sql, string $what ): int {
		global $wpdb;
		for ( $try = 1; ; $try++ ) {
			$wpdb->flush();
			$changed = $wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by the callers.
			$error   = (string) $wpdb->last_error;
			if ( '' === $error || $try >= self::DEADLOCK_TRIES || ! self::is_deadlock( $error ) ) {
				break;
			}
			usleep( random_int( 1000, 20000 ) * $try );
		}
		self::check( $what );
		return (int) $changed;
	}

	/**
	 * Deletes the rows of this table matching $where in batches, for DELETE_SECONDS at most.
	 * No ORDER BY: every matching row goes, and without it the range of the condition's index
	 * is read instead of the primary key from its start (measured on the queue with 60,000 old
	 * done rows behind 100,000 newer ones: 20,000 deleted in 13.3 s with ORDER BY id, 45,000 in
	 * 10.9 s without).
	 *
	 * @return int How many rows were deleted.
	 */
	public function delete_in_batches( string $where, string $what ): int {
		$deleted = 0;
		$until   = microtime( true ) + self::DELETE_SECONDS;
		do {
			$n        = self::write( 'DELETE FROM ' . $this->name() . " WHERE {$where} LIMIT " . self::DELETE_BATCH, $what );
			$deleted += $n;
		} while ( self::DELETE_BATCH === $n && microtime( true ) < $until );
		return $deleted;
	}

	/**
	 * Whether an error is a deadlock (1213) or a lock wait timeout (1205): the statement was
	 * rolled back and may be run again.
	 */
	private static function is_deadlock( string $error ): bool {
		global $wpdb;
		$errno = $wpdb->dbh instanceof mysqli ? mysqli_errno( $wpdb->dbh ) : 0;
		return in_array( $errno, array( 1205, 1213 ), true )
			|| str_contains( $error, 'Deadlock found' )
			|| str_contains( $error, 'Lock wait timeout' );
	}
}
