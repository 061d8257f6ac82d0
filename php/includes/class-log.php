<?php
/**
 * The webhook log: one row per webhook in the table `{prefix}wpf_bridge_log`.
 *
 * A row holds what a site owner needs to see what happened (action, CRM, contact and user ids,
 * status, outcome, duration, the extension's log lines and reasons) and nothing secret: the
 * query string, headers and body are never stored, because they hold the access key, the
 * signature and contact data.
 *
 * Two budgets, so refused requests cannot push out the record of accepted ones: rows of
 * requests refused before they were authenticated (column `refused`, as the extension's log
 * record says: a wrong or missing key or signature, unusable parameters) keep their newest
 * MAX_REFUSED_ROWS; every other row keeps its newest MAX_ROWS. Each insert prunes only its own
 * kind, so anyone can fill the refused budget, but only an authenticated caller can add
 * accepted rows. Refused requests are not written one by one: WPF_Bridge_Refusals counts them
 * and folds one row per minute and bucket (reason, source address) into this table, with its
 * count in `hits`.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Writes, reads, prunes and clears the log table.
 */
final class WPF_Bridge_Log {

	/** Table name without the WordPress prefix. */
	public const TABLE = 'wpf_bridge_log';

	/** Rows kept of authenticated requests (answered, or failed after authentication). */
	public const MAX_ROWS = 1000;

	/** Rows kept of requests refused before authentication. */
	public const MAX_REFUSED_ROWS = 100;

	/** Bump when schema() changes; the installer runs dbDelta again. */
	public const SCHEMA_VERSION = 3;

	/** Bytes kept of the details column (TEXT holds 65535). */
	private const DETAILS_MAX = 60000;

	/** Option holding the table's schema version. */
	public const DB_VERSION_OPTION = 'wpf_bridge_db_version';

	/**
	 * The columns and keys, in the format dbDelta() parses (two spaces after PRIMARY KEY).
	 */
	private const COLUMNS = "
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  time datetime NOT NULL,
  action varchar(32) NOT NULL DEFAULT '',
  crm varchar(32) NOT NULL DEFAULT '',
  contact_ids text NOT NULL,
  user_ids text NOT NULL,
  status smallint(5) unsigned NOT NULL DEFAULT 0,
  outcome varchar(191) NOT NULL DEFAULT '',
  duration_ms int(10) unsigned NOT NULL DEFAULT 0,
  details text NOT NULL,
  refused tinyint(1) unsigned NOT NULL DEFAULT 0,
  hits int(10) unsigned NOT NULL DEFAULT 1,
  source varchar(45) NOT NULL DEFAULT '',
  PRIMARY KEY  (id),
  KEY time (time),
  KEY refused_id (refused,id)
";

	/**
	 * The table's plumbing (name, dbDelta, version option, drop), shared with the queue.
	 */
	private static function plumbing(): WPF_Bridge_Table {
		return new WPF_Bridge_Table( self::TABLE, self::DB_VERSION_OPTION, self::SCHEMA_VERSION );
	}

	/**
	 * Full table name.
	 */
	public static function table(): string {
		return self::plumbing()->name();
	}

	/**
	 * Creates or upgrades the table and records its schema version.
	 */
	public static function create_table(): void {
		$table = self::plumbing();
		$table->create( self::COLUMNS );
		$table->record_version();
	}

	/**
	 * Whether the stored schema version is the code's.
	 */
	public static function is_current(): bool {
		return self::plumbing()->is_current();
	}

	/**
	 * Drops the table and its version option (uninstall).
	 */
	public static function drop_table(): void {
		self::plumbing()->drop();
	}

	/**
	 * Writes one entry and prunes the oldest of its kind (refused or accepted, see above).
	 *
	 * @param array $entry Keys action, crm, contact_ids (list), user_ids (list), status, outcome,
	 *                     duration_ms, details (list of lines); refused, hits and source for
	 *                     the refused requests of one minute (WPF_Bridge_Refusals); time (UTC,
	 *                     default now). Never pass a secret.
	 */
	public static function write( array $entry ): void {
		global $wpdb;
		$details = implode( "\n", array_map( 'strval', (array) ( $entry['details'] ?? array() ) ) );
		if ( strlen( $details ) > self::DETAILS_MAX ) {
			$details = mb_strcut( $details, 0, self::DETAILS_MAX ) . "\n[truncated]";
		}

		$refused  = ! empty( $entry['refused'] );
		$suppress = $wpdb->suppress_errors( true );
		$inserted = $wpdb->insert(
			self::table(),
			array(
				'time'        => (string) ( $entry['time'] ?? gmdate( 'Y-m-d H:i:s' ) ),
				'action'      => mb_substr( (string) ( $entry['action'] ?? '' ), 0, 32 ),
				'crm'         => mb_substr( (string) ( $entry['crm'] ?? '' ), 0, 32 ),
				'contact_ids' => implode( ',', array_map( 'strval', (array) ( $entry['contact_ids'] ?? array() ) ) ),
				'user_ids'    => implode( ',', array_map( 'strval', (array) ( $entry['user_ids'] ?? array() ) ) ),
				'status'      => (int) ( $entry['status'] ?? 0 ),
				'outcome'     => mb_substr( (string) ( $entry['outcome'] ?? '' ), 0, 191 ),
				'duration_ms' => max( 0, (int) ( $entry['duration_ms'] ?? 0 ) ),
				'details'     => $details,
				'refused'     => $refused ? 1 : 0,
				'hits'        => max( 1, (int) ( $entry['hits'] ?? 1 ) ),
				'source'      => substr( (string) ( $entry['source'] ?? '' ), 0, 45 ),
			),
			array( '%s', '%s', '%s', '%s', '%s', '%d', '%s', '%d', '%s', '%d', '%d', '%s' )
		);
		if ( $inserted ) {
			self::prune( $refused );
		}
		$wpdb->suppress_errors( $suppress );
	}

	/**
	 * Trims both kinds to their budgets (retention, on the queue tick).
	 */
	public static function prune_all(): void {
		global $wpdb;
		$suppress = $wpdb->suppress_errors( true );
		self::prune( true );
		self::prune( false );
		$wpdb->suppress_errors( $suppress );
	}

	/**
	 * Deletes the rows of one kind older than its newest MAX_ROWS / MAX_REFUSED_ROWS.
	 */
	private static function prune( bool $refused ): void {
		global $wpdb;
		$kind  = $wpdb->prepare( 'refused = %d', $refused ? 1 : 0 );
		$keep  = $refused ? self::MAX_REFUSED_ROWS : self::MAX_ROWS;
		// Ids only grow: the id of the oldest row to keep bounds a primary-key range.
		$oldest = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . self::table() . " WHERE {$kind} ORDER BY id DESC LIMIT 1 OFFSET %d", $keep - 1 ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a prepared condition.
		if ( null !== $oldest ) {
			$wpdb->query( $wpdb->prepare( 'DELETE FROM ' . self::table() . " WHERE {$kind} AND id < %d", (int) $oldest ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a prepared condition.
		}
	}

	/**
	 * A page of entries, newest first: every entry, or only the refused ones (true) or only
	 * the others (false).
	 *
	 * @return array<int, object> Rows with the table's columns.
	 */
	public static function page( int $page, int $per_page, ?bool $refused = null ): array {
		global $wpdb;
		$offset = max( 0, ( $page - 1 ) * $per_page );
		$rows   = $wpdb->get_results(
			$wpdb->prepare( 'SELECT * FROM ' . self::table() . ' WHERE ' . self::kind( $refused ) . ' ORDER BY id DESC LIMIT %d OFFSET %d', $per_page, $offset ) // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a prepared condition.
		);
		return is_array( $rows ) ? $rows : array();
	}

	/**
	 * Number of entries (of one kind, as page()).
	 */
	public static function count( ?bool $refused = null ): int {
		global $wpdb;
		return (int) $wpdb->get_var( 'SELECT COUNT(*) FROM ' . self::table() . ' WHERE ' . self::kind( $refused ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a prepared condition.
	}

	/**
	 * Requests the entries stand for (of one kind, as page()): a refused row counts its hits.
	 */
	public static function hits( ?bool $refused = null ): int {
		global $wpdb;
		return (int) $wpdb->get_var( 'SELECT COALESCE(SUM(hits), 0) FROM ' . self::table() . ' WHERE ' . self::kind( $refused ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a prepared condition.
	}

	/**
	 * The condition selecting one kind of entry, or every entry.
	 */
	private static function kind( ?bool $refused ): string {
		global $wpdb;
		return null === $refused ? '1=1' : $wpdb->prepare( 'refused = %d', $refused ? 1 : 0 );
	}

	/**
	 * Deletes every entry.
	 */
	public static function clear(): void {
		global $wpdb;
		$wpdb->query( 'TRUNCATE TABLE ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
	}
}
