<?php
/**
 * The queue adapter: the extension's storage port for queued webhooks (src/queue/port.rs,
 * trait `Queue`), in the table `{prefix}wpf_bridge_queue`.
 *
 * The extension calls these methods by name and makes every decision (what to store, when to
 * retry, what to coalesce); each method here is one or two SQL statements and decides
 * nothing. What the table guarantees, as port.rs asks:
 * - one durable write per accepted webhook: all its rows in one multi-row INSERT;
 * - atomic claims: one UPDATE takes every due row of a contact under a random token, then a
 *   SELECT reads the rows carrying that token, so two workers (on one server or several on
 *   the same database) never hold the same row; an expired lease is claimable again;
 * - settling (done, retry, fail) changes only rows still claimed under the caller's token;
 * - one clock: every time is the database's UNIX_TIMESTAMP(), the same for every PHP server.
 * Times are stored as Unix seconds. `data` holds the extension's versioned event JSON, never
 * a secret (the extension drops passwords at intake). Failures throw \RuntimeException with a
 * short message (never the query), which the extension turns into its `site_error`.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The queue table, as the extension sees it.
 */
final class WPF_Bridge_Queue {

	/** Table name without the WordPress prefix. */
	public const TABLE = 'wpf_bridge_queue';

	/** Bump when schema() changes; the installer runs dbDelta again on plugins_loaded. */
	public const SCHEMA_VERSION = 1;

	/** Option holding the table's schema version. */
	public const DB_VERSION_OPTION = 'wpf_bridge_queue_db_version';

	/** Bytes kept of an error sentence. */
	private const MESSAGE_MAX = 1000;

	/**
	 * Full table name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . self::TABLE;
	}

	/**
	 * The CREATE TABLE statement, in the format dbDelta() parses (two spaces after PRIMARY KEY).
	 * `batch` marks the rows of one INSERT, so store() reads back exactly their ids. The
	 * contact key leaves `state` out on purpose: a claim scans it and changes `state`, and
	 * with `state` in the scanned index two racing claims deadlocked (measured on MariaDB 10.11).
	 * `contact_id` is binary: CRM ids are compared byte for byte, so `abc` and `ABC` (or `abc `)
	 * are two contacts, never claimed and coalesced together as the site's collation would.
	 */
	public static function schema(): string {
		global $wpdb;
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		return "CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  crm varchar(32) NOT NULL DEFAULT '',
  contact_id varbinary(255) NOT NULL DEFAULT '',
  state varchar(16) NOT NULL DEFAULT 'pending',
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  due_at bigint(20) NOT NULL DEFAULT 0,
  claim_token varchar(64) NOT NULL DEFAULT '',
  lease_until bigint(20) NOT NULL DEFAULT 0,
  batch varchar(32) NOT NULL DEFAULT '',
  accepted_at bigint(20) NOT NULL DEFAULT 0,
  settled_at bigint(20) NOT NULL DEFAULT 0,
  outcome varchar(32) NOT NULL DEFAULT '',
  user_id bigint(20) unsigned NOT NULL DEFAULT 0,
  error_code varchar(64) NOT NULL DEFAULT '',
  error_message text NOT NULL,
  data longtext NOT NULL,
  PRIMARY KEY  (id),
  KEY contact (crm,contact_id),
  KEY state_due (state,due_at),
  KEY claim_token (claim_token),
  KEY batch (batch)
) {$charset};";
	}

	/**
	 * Creates or upgrades the table and records its schema version.
	 */
	public static function create_table(): void {
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		dbDelta( self::schema() );
		update_option( self::DB_VERSION_OPTION, self::SCHEMA_VERSION, true );
	}

	/**
	 * Whether the stored schema version is the code's.
	 */
	public static function is_current(): bool {
		return (int) get_option( self::DB_VERSION_OPTION, 0 ) === self::SCHEMA_VERSION;
	}

	/**
	 * Drops the table (uninstall).
	 */
	public static function drop_table(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		delete_option( self::DB_VERSION_OPTION );
	}

	/**
	 * The database's clock, in Unix seconds (the same for every PHP server on this database).
	 */
	public function now(): int {
		global $wpdb;
		$wpdb->flush();
		$now = $wpdb->get_var( 'SELECT UNIX_TIMESTAMP()' );
		$this->throw_on_db_error( 'Could not read the database clock' );
		if ( null === $now ) {
			throw new RuntimeException( 'Could not read the database clock' );
		}
		return (int) $now;
	}

	/**
	 * Stores the rows of one accepted webhook in one INSERT, due at once.
	 *
	 * @param array<int, array{crm: string, contact_id: string, data: string}> $rows Rows to store.
	 * @return int[] Their ids, in the same order.
	 */
	public function store( array $rows ): array {
		global $wpdb;
		if ( array() === $rows ) {
			return array();
		}
		$batch  = bin2hex( random_bytes( 16 ) );
		$values = array();
		foreach ( $rows as $row ) {
			$values[] = $wpdb->prepare(
				"(%s, %s, 'pending', 0, UNIX_TIMESTAMP(), %s, UNIX_TIMESTAMP(), '', %s)",
				(string) ( $row['crm'] ?? '' ),
				(string) ( $row['contact_id'] ?? '' ),
				$batch,
				(string) ( $row['data'] ?? '' )
			);
		}
		$wpdb->flush();
		$inserted = $wpdb->query(
			'INSERT INTO ' . self::table() . ' (crm, contact_id, state, attempts, due_at, batch, accepted_at, error_message, data) VALUES ' . implode( ', ', $values ) // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared rows.
		);
		$this->throw_on_db_error( 'Could not store the events' );
		if ( count( $rows ) !== (int) $inserted ) {
			throw new RuntimeException( 'Could not store the events' );
		}
		$ids = $wpdb->get_col( $wpdb->prepare( 'SELECT id FROM ' . self::table() . ' WHERE batch = %s ORDER BY id ASC', $batch ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$this->throw_on_db_error( 'Could not read the stored events' );
		return array_map( 'intval', $ids );
	}

	/**
	 * Contacts with at least one due event, the longest waiting first.
	 *
	 * @return array<int, array{crm: string, contact_id: string}>
	 */
	public function due_contacts( int $limit ): array {
		global $wpdb;
		if ( $limit <= 0 ) {
			return array();
		}
		$wpdb->flush();
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT crm, contact_id, MIN(id) AS first FROM ' . self::table() . ' WHERE ' . self::DUE . ' GROUP BY crm, contact_id ORDER BY first ASC LIMIT %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a constant condition.
				$limit
			),
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not list due contacts' );
		return array_map(
			static fn( $row ) => array(
				'crm'        => (string) $row['crm'],
				'contact_id' => (string) $row['contact_id'],
			),
			(array) $rows
		);
	}

	/** A row that may be claimed now: due, or claimed by a worker whose lease ran out. */
	private const DUE = "((state IN ('pending','retrying') AND due_at <= UNIX_TIMESTAMP()) OR (state = 'claimed' AND lease_until <= UNIX_TIMESTAMP()))";

	/**
	 * Claims every due event of one contact under $token for $lease_seconds, in one atomic
	 * UPDATE, counting an attempt for each; then reads the rows carrying the token.
	 *
	 * @return array<int, array{id: int, attempts: int, data: string}>
	 */
	public function claim( string $crm, string $contact_id, string $token, int $lease_seconds ): array {
		global $wpdb;
		if ( '' === $token ) {
			throw new RuntimeException( 'A claim needs a token' );
		}
		$this->write(
			$wpdb->prepare(
				'UPDATE ' . self::table() . " SET state = 'claimed', claim_token = %s, lease_until = UNIX_TIMESTAMP() + %d, attempts = attempts + 1 WHERE crm = %s AND contact_id = %s AND " . self::DUE, // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a constant condition.
				$token,
				max( 1, $lease_seconds ),
				$crm,
				$contact_id
			),
			'Could not claim events'
		);
		$rows = $wpdb->get_results(
			$wpdb->prepare( 'SELECT id, attempts, data FROM ' . self::table() . " WHERE claim_token = %s AND state = 'claimed' AND crm = %s AND contact_id = %s ORDER BY id ASC", $token, $crm, $contact_id ), // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not read claimed events' );
		return array_map(
			static fn( $row ) => array(
				'id'       => (int) $row['id'],
				'attempts' => (int) $row['attempts'],
				'data'     => (string) $row['data'],
			),
			(array) $rows
		);
	}

	/**
	 * Marks claimed events done with the result of the apply that settled them.
	 *
	 * @param int[] $ids    Event ids.
	 * @param array $result The extension's event result (outcome, user_id, ...).
	 */
	public function complete( string $token, array $ids, array $result ): void {
		$this->settle(
			$token,
			$ids,
			array(
				'state'   => 'done',
				'outcome' => substr( (string) ( $result['outcome'] ?? '' ), 0, 32 ),
				'user_id' => max( 0, (int) ( $result['user_id'] ?? 0 ) ),
			)
		);
	}

	/**
	 * Releases claimed events to be tried again at $at, keeping the error.
	 *
	 * @param int[] $ids Event ids.
	 */
	public function retry( string $token, array $ids, int $at, string $code, string $message ): void {
		$this->settle(
			$token,
			$ids,
			array(
				'state'         => 'retrying',
				'due_at'        => $at,
				'error_code'    => substr( $code, 0, 64 ),
				'error_message' => mb_strcut( $message, 0, self::MESSAGE_MAX ),
			)
		);
	}

	/**
	 * Marks claimed events failed with the error.
	 *
	 * @param int[] $ids Event ids.
	 */
	public function fail( string $token, array $ids, string $code, string $message ): void {
		$this->settle(
			$token,
			$ids,
			array(
				'state'         => 'failed',
				'error_code'    => substr( $code, 0, 64 ),
				'error_message' => mb_strcut( $message, 0, self::MESSAGE_MAX ),
			)
		);
	}

	/**
	 * How many events are in $state.
	 */
	public function count( string $state ): int {
		global $wpdb;
		$wpdb->flush();
		$count = $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . self::table() . ' WHERE state = %s', $state ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$this->throw_on_db_error( 'Could not count events' );
		return (int) $count;
	}

	/**
	 * Rows, newest first, optionally of one state and one contact (never their data).
	 *
	 * @return array<int, array<string, mixed>>
	 */
	public function list( ?string $state, ?string $contact_id, int $limit ): array {
		global $wpdb;
		$where = array( '1=1' );
		if ( null !== $state ) {
			$where[] = $wpdb->prepare( 'state = %s', $state );
		}
		if ( null !== $contact_id ) {
			$where[] = $wpdb->prepare( 'contact_id = %s', $contact_id );
		}
		$wpdb->flush();
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT id, crm, contact_id, state, attempts, accepted_at, due_at, outcome, error_code, error_message FROM ' . self::table() . ' WHERE ' . implode( ' AND ', $where ) . ' ORDER BY id DESC LIMIT %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared conditions.
				max( 0, $limit )
			),
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not list events' );
		return array_map(
			static fn( $row ) => array(
				'id'            => (int) $row['id'],
				'crm'           => (string) $row['crm'],
				'contact_id'    => (string) $row['contact_id'],
				'state'         => (string) $row['state'],
				'attempts'      => (int) $row['attempts'],
				'accepted_at'   => (int) $row['accepted_at'],
				'due_at'        => in_array( $row['state'], array( 'pending', 'retrying' ), true ) ? (int) $row['due_at'] : null,
				'outcome'       => (string) $row['outcome'],
				'error_code'    => (string) $row['error_code'],
				'error_message' => (string) $row['error_message'],
			),
			(array) $rows
		);
	}

	/**
	 * Applies $changes to the rows in $ids still claimed under $token, and releases the claim.
	 *
	 * @param int[]                $ids     Event ids.
	 * @param array<string, mixed> $changes Column => value (ints stay ints).
	 */
	private function settle( string $token, array $ids, array $changes ): void {
		global $wpdb;
		$ids = array_values( array_filter( array_map( 'intval', $ids ), static fn( $id ) => $id > 0 ) );
		if ( '' === $token || array() === $ids ) {
			return;
		}
		$set = array( "claim_token = ''", 'lease_until = 0', 'settled_at = UNIX_TIMESTAMP()' );
		foreach ( $changes as $column => $value ) {
			$set[] = $wpdb->prepare( "{$column} = " . ( is_int( $value ) ? '%d' : '%s' ), $value ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- column names are this class's constants.
		}
		$this->write(
			$wpdb->prepare(
				'UPDATE ' . self::table() . ' SET ' . implode( ', ', $set ) . " WHERE claim_token = %s AND state = 'claimed' AND id IN (" . implode( ',', $ids ) . ')', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name, prepared assignments, integer ids.
				$token
			),
			'Could not settle events'
		);
	}

	/**
	 * Runs one UPDATE (a transaction of its own under autocommit). InnoDB may pick it as the
	 * victim of a deadlock with another worker's UPDATE, which rolls it back whole: then it
	 * is run again, a few times, before giving up.
	 */
	private function write( string $sql, string $what ): void {
		global $wpdb;
		for ( $try = 1; ; $try++ ) {
			$wpdb->flush();
			$wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by the callers.
			$error = (string) $wpdb->last_error;
			if ( '' === $error || $try >= self::DEADLOCK_TRIES || ! self::is_deadlock( $error ) ) {
				break;
			}
			usleep( random_int( 1000, 20000 ) * $try );
		}
		$this->throw_on_db_error( $what );
	}

	/** Tries of one UPDATE chosen as a deadlock victim. */
	private const DEADLOCK_TRIES = 4;

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

	/**
	 * Turns the last database error into an exception (the query text is not included).
	 */
	private function throw_on_db_error( string $what ): void {
		global $wpdb;
		if ( '' !== (string) $wpdb->last_error ) {
			throw new RuntimeException( $what . ': database error' );
		}
	}
}
