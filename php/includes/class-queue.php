<?php
/**
 * The queue adapter: the extension's storage port for queued webhooks (src/queue/port.rs,
 * trait `Queue`), in the table `{prefix}wpf_bridge_queue`.
 *
 * The extension calls these methods by name and makes every decision (what to store, when to
 * retry, what to coalesce); each method here is one or two SQL statements and decides
 * nothing. What the table guarantees, as port.rs asks:
 * - one durable write per accepted webhook: all its rows in one multi-row INSERT;
 * - one copy per delivery: each row carries the extension's delivery key, unique (UNIQUE KEY
 *   `delivery`) among the rows still waiting unclaimed (`delivery_open` = 1; a claim sets it
 *   NULL, and NULL never collides). The INSERT skips a row whose key is held
 *   (ON DUPLICATE KEY UPDATE, a no-op) and store() answers the holder's id: an INSERT that
 *   WordPress re-runs after reconnecting, or a CRM's retry of a delivery still waiting, adds
 *   nothing;
 * - atomic claims: one UPDATE takes every due row of a contact under a random token, then a
 *   SELECT reads the rows carrying that token, so two workers (on one server or several on
 *   the same database) never hold the same row; an expired lease is claimable again;
 * - settling (done, retry, fail) changes only rows still claimed under the caller's token;
 * - one clock: every time is the database's UNIX_TIMESTAMP(), the same for every PHP server.
 * Times are stored as Unix seconds. `data` holds the extension's versioned event JSON, never
 * a secret (the extension drops passwords at intake). Failures throw \RuntimeException with a
 * short message (never the query), which the extension turns into its `site_error`.
 *
 * The administrator's operations (the webhooks page, the CLI, retention) are here too:
 * requeue(), discard(), summary(), prune(). Which states Retry and Discard may touch is the
 * extension's rule (wpf_bridge_rules()['queue']); nothing is deleted before it is done or an
 * administrator discards it, and a claimed event (in a worker's hands) is never touched.
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
	public const SCHEMA_VERSION = 3;

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
	 * `state_settled` lets retention find old done rows, and the oldest beyond the cap, by index.
	 * `head` is the event without its snapshot (what coalescing reads: small and bounded), so a
	 * claim never loads a contact's whole backlog; `data` is read for the winner alone
	 * (event_data). Rows stored before `head` existed have it empty and are read whole.
	 * `dead_claims` counts claims whose lease ran out unsettled (the worker died).
	 * Schema 3 (issue 18, accept side): `delivery_key`/`delivery_open` and the UNIQUE KEY
	 * `delivery` keep one copy of a delivery while it waits (see the class comment); `bytes`
	 * (the data's length) and `state_bytes` let waiting_load() sum the waiting rows from an
	 * index alone, without reading their data.
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
  dead_claims int(10) unsigned NOT NULL DEFAULT 0,
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
  head text NOT NULL,
  delivery_key varbinary(64) DEFAULT NULL,
  delivery_open tinyint(1) DEFAULT NULL,
  bytes int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY  (id),
  KEY contact (crm,contact_id),
  KEY state_due (state,due_at),
  KEY claim_token (claim_token),
  KEY batch (batch),
  KEY state_settled (state,settled_at),
  UNIQUE KEY delivery (delivery_key,delivery_open),
  KEY state_bytes (state,bytes)
) {$charset};";
	}

	/**
	 * Creates or upgrades the table and records its schema version.
	 */
	public static function create_table(): void {
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$from = (int) get_option( self::DB_VERSION_OPTION, 0 );
		dbDelta( self::schema() );
		if ( $from > 0 && $from < 3 && ! self::upgrade_to_3() ) {
			return; // Not recorded: the next load tries again.
		}
		update_option( self::DB_VERSION_OPTION, self::SCHEMA_VERSION, true );
	}

	/**
	 * Schema 3 on a table that has rows from before: the waiting rows get their `bytes` (so
	 * the caps count them), and the waiting rows whose contact id the database cut (ids over
	 * 255 bytes were accepted before ids were measured in bytes; no claim ever matched them and
	 * every drain spent its budget on them) are failed with the extension's code and sentence
	 * (wpf_bridge_rules()['queue']['cut_contact_id']), so they show on the webhooks page and
	 * stop blocking drains. A cut id is the only way a row's contact_id differs from the id in
	 * its data, and only an id of 255 bytes can be a cut one. One pass over the waiting rows,
	 * once. Returns false (to try again later) when the extension is not loaded or SQL failed.
	 */
	private static function upgrade_to_3(): bool {
		global $wpdb;
		$rules = WPF_Bridge_Extension::rules();
		$cut   = $rules['queue']['cut_contact_id'] ?? null;
		if ( ! is_array( $cut ) || ! isset( $rules['queue']['waiting_states'] ) ) {
			return false;
		}
		$table   = self::table();
		$waiting = self::in_states( (array) $rules['queue']['waiting_states'] );
		$wpdb->flush();
		$wpdb->query( "UPDATE {$table} SET bytes = LENGTH(data) WHERE {$waiting} AND bytes = 0" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name and prepared states.
		if ( '' !== (string) $wpdb->last_error ) {
			return false;
		}
		$wpdb->query(
			$wpdb->prepare(
				"UPDATE {$table} SET state = 'failed', claim_token = '', lease_until = 0, settled_at = UNIX_TIMESTAMP(), error_code = %s, error_message = %s WHERE {$waiting} AND LENGTH(contact_id) = 255 AND CAST(JSON_UNQUOTE(JSON_EXTRACT(data, '$.event.contact_id')) AS BINARY) <> contact_id", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name and prepared states.
				substr( (string) $cut['code'], 0, 64 ),
				mb_strcut( (string) $cut['message'], 0, self::MESSAGE_MAX )
			)
		);
		return '' === (string) $wpdb->last_error;
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
	 * Stores the rows of one accepted webhook in one INSERT, due at once, each under its
	 * delivery key: a row whose key a waiting, unclaimed row holds is not stored again, and
	 * that row's id is returned for it. The ids are read back by key (a row of this INSERT may
	 * be claimed at once, which frees its key, so its own `batch` finds it too). A key freed
	 * between the INSERT and the read (its holder was just claimed) is stored again, as any
	 * delivery arriving after a claim is; STORE_TRIES rounds at most. A row without a key (the
	 * tests' direct calls) gets one of its own, so it is never taken for another.
	 *
	 * @param array<int, array{crm: string, contact_id: string, data: string, head: string, delivery_key?: string}> $rows Rows to store.
	 * @return int[] Their ids, in the same order.
	 */
	public function store( array $rows ): array {
		global $wpdb;
		$rows = array_values( $rows );
		if ( array() === $rows ) {
			return array();
		}
		$batch = bin2hex( random_bytes( 16 ) );
		$keys  = array();
		foreach ( $rows as $i => $row ) {
			$key        = (string) ( $row['delivery_key'] ?? '' );
			$keys[ $i ] = '' === $key ? "{$batch}-{$i}" : substr( $key, 0, 64 );
		}
		if ( count( array_unique( $keys ) ) !== count( $keys ) ) {
			throw new RuntimeException( 'Could not store the events: two rows have the same delivery key' );
		}
		$ids  = array();
		$left = array_keys( $rows );
		for ( $try = 1; $left && $try <= self::STORE_TRIES; $try++ ) {
			$values = array();
			foreach ( $left as $i ) {
				$data     = (string) ( $rows[ $i ]['data'] ?? '' );
				$values[] = $wpdb->prepare(
					"(%s, %s, 'pending', 0, UNIX_TIMESTAMP(), %s, UNIX_TIMESTAMP(), '', %s, %s, %s, 1, %d)",
					(string) ( $rows[ $i ]['crm'] ?? '' ),
					(string) ( $rows[ $i ]['contact_id'] ?? '' ),
					$batch,
					$data,
					(string) ( $rows[ $i ]['head'] ?? '' ),
					$keys[ $i ],
					strlen( $data )
				);
			}
			// Run again when chosen as a deadlock victim (write()): with the keys, a second run
			// stores nothing twice.
			$this->write(
				'INSERT INTO ' . self::table() . ' (crm, contact_id, state, attempts, due_at, batch, accepted_at, error_message, data, head, delivery_key, delivery_open, bytes) VALUES ' . implode( ', ', $values ) . ' ON DUPLICATE KEY UPDATE id = id', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared rows.
				'Could not store the events'
			);
			$wanted = array_map( static fn( $i ) => $keys[ $i ], $left );
			$found  = $wpdb->get_results(
				$wpdb->prepare(
					'SELECT id, delivery_key, batch FROM ' . self::table() . ' WHERE delivery_key IN (' . implode( ',', array_fill( 0, count( $wanted ), '%s' ) ) . ') AND (delivery_open = 1 OR batch = %s) ORDER BY id ASC', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name and placeholders.
					array_merge( $wanted, array( $batch ) )
				),
				ARRAY_A
			);
			$this->throw_on_db_error( 'Could not read the stored events' );
			$by_key = array();
			foreach ( (array) $found as $row ) {
				$key = (string) $row['delivery_key'];
				// This INSERT's own row wins over an older holder of the same key.
				if ( ! isset( $by_key[ $key ] ) || $batch === (string) $row['batch'] ) {
					$by_key[ $key ] = (int) $row['id'];
				}
			}
			$missing = array();
			foreach ( $left as $i ) {
				if ( isset( $by_key[ $keys[ $i ] ] ) ) {
					$ids[ $i ] = $by_key[ $keys[ $i ] ];
				} else {
					$missing[] = $i;
				}
			}
			$left = $missing;
		}
		if ( $left ) {
			throw new RuntimeException( 'Could not store the events' );
		}
		ksort( $ids );
		return array_values( $ids );
	}

	/** Rounds of store() (a key freed by a claim between its INSERT and its read is stored again). */
	private const STORE_TRIES = 3;

	/** Option holding the last waiting_load() figures: `at` (PHP time), `events`, `bytes`. */
	public const LOAD_OPTION = 'wpf_bridge_queue_load';

	/**
	 * The waiting events (pending, claimed, retrying) and their bytes, at most $max_age
	 * seconds old: the last figures (an option, not autoloaded), refreshed when older by the
	 * one request that takes a named lock without waiting (the others read the last figures)
	 * with one COUNT/SUM over the `state_bytes` index (the data is never read). Never a count
	 * of the table per request: the figures are the extension's backpressure estimate.
	 *
	 * @return array{events: int, bytes: int, at: int}
	 */
	public function waiting_load( int $max_age ): array {
		global $wpdb;
		$last  = get_option( self::LOAD_OPTION );
		$valid = is_array( $last ) && isset( $last['at'], $last['events'], $last['bytes'] );
		$age   = $valid ? time() - (int) $last['at'] : PHP_INT_MAX;
		if ( $valid && $age >= 0 && $age < max( 1, $max_age ) ) {
			return $last;
		}
		$lock = $wpdb->prefix . 'wpf_bridge_queue_load';
		$wpdb->flush();
		$held = '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', $lock ) );
		if ( ! $held && $valid ) {
			return $last; // Another request is refreshing them.
		}
		try {
			$row = $wpdb->get_row( 'SELECT COUNT(*) AS events, COALESCE(SUM(bytes), 0) AS bytes FROM ' . self::table() . ' WHERE ' . self::in_states( (array) self::rule( 'waiting_states' ) ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared states.
			$this->throw_on_db_error( 'Could not measure the queue' );
			$load = array(
				'events' => (int) ( $row['events'] ?? 0 ),
				'bytes'  => (int) ( $row['bytes'] ?? 0 ),
				'at'     => time(),
			);
			update_option( self::LOAD_OPTION, $load, false );
			return $load;
		} finally {
			if ( $held ) {
				$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
			}
		}
	}

	/**
	 * The waiting events of each contact of $crm in $contact_ids, in the same order: one
	 * grouped count through the contact index.
	 *
	 * @param string[] $contact_ids Contact ids.
	 * @return int[]
	 */
	public function waiting_per_contact( string $crm, array $contact_ids ): array {
		global $wpdb;
		$contact_ids = array_values( array_map( 'strval', $contact_ids ) );
		if ( array() === $contact_ids ) {
			return array();
		}
		$wpdb->flush();
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT contact_id, COUNT(*) AS n FROM ' . self::table() . ' WHERE crm = %s AND contact_id IN (' . implode( ',', array_fill( 0, count( $contact_ids ), '%s' ) ) . ') AND ' . self::in_states( (array) self::rule( 'waiting_states' ) ) . ' GROUP BY contact_id', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name, placeholders and prepared states.
				array_merge( array( $crm ), $contact_ids )
			),
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not count waiting events' );
		$counts = array();
		foreach ( (array) $rows as $row ) {
			$counts[ 'c' . $row['contact_id'] ] = (int) $row['n'];
		}
		return array_map( static fn( $id ) => $counts[ 'c' . $id ] ?? 0, $contact_ids );
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
	 * Claims the oldest due events of one contact, at most $max_rows, under $token for
	 * $lease_seconds, in one atomic UPDATE, counting an attempt for each (and a dead claim for
	 * each taken from a worker whose lease ran out) and freeing their delivery keys (a delivery
	 * that arrives while its copy is applied is stored again); then reads the rows carrying the
	 * token: their heads, never their data (a row without a head gives its data).
	 *
	 * @return array<int, array{id: int, attempts: int, dead_claims: int, head: string}>
	 */
	public function claim( string $crm, string $contact_id, string $token, int $lease_seconds, int $max_rows ): array {
		global $wpdb;
		if ( '' === $token ) {
			throw new RuntimeException( 'A claim needs a token' );
		}
		$this->write(
			$wpdb->prepare(
				'UPDATE ' . self::table() . " SET dead_claims = dead_claims + (state = 'claimed'), state = 'claimed', claim_token = %s, lease_until = UNIX_TIMESTAMP() + %d, attempts = attempts + 1, delivery_open = NULL WHERE crm = %s AND contact_id = %s AND " . self::DUE . ' ORDER BY id ASC LIMIT %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a constant condition.
				$token,
				max( 1, $lease_seconds ),
				$crm,
				$contact_id,
				max( 1, $max_rows )
			),
			'Could not claim events'
		);
		$rows = $wpdb->get_results(
			$wpdb->prepare( 'SELECT id, attempts, dead_claims, IF(head = \'\', data, head) AS head FROM ' . self::table() . " WHERE claim_token = %s AND state = 'claimed' AND crm = %s AND contact_id = %s ORDER BY id ASC", $token, $crm, $contact_id ), // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not read claimed events' );
		return array_map(
			static fn( $row ) => array(
				'id'          => (int) $row['id'],
				'attempts'    => (int) $row['attempts'],
				'dead_claims' => (int) $row['dead_claims'],
				'head'        => (string) $row['head'],
			),
			(array) $rows
		);
	}

	/**
	 * The data of one event claimed under $token (the winner of a coalesced claim).
	 */
	public function event_data( string $token, int $id ): string {
		global $wpdb;
		$wpdb->flush();
		$data = $wpdb->get_var( $wpdb->prepare( 'SELECT data FROM ' . self::table() . " WHERE id = %d AND claim_token = %s AND state = 'claimed'", $id, $token ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$this->throw_on_db_error( 'Could not read an event' );
		if ( null === $data ) {
			throw new RuntimeException( 'Event ' . $id . ' is no longer claimed by this worker' );
		}
		return (string) $data;
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
	 * Rows, newest first, optionally of one state and one contact (never their data), from the
	 * $offset-th on (the webhooks page's paging).
	 *
	 * @return array<int, array<string, mixed>>
	 */
	public function list( ?string $state, ?string $contact_id, int $limit, int $offset = 0 ): array {
		global $wpdb;
		$wpdb->flush();
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT id, crm, contact_id, state, attempts, accepted_at, due_at, settled_at, outcome, user_id, error_code, error_message FROM ' . self::table() . ' WHERE ' . self::filter( $state, $contact_id ) . ' ORDER BY id DESC LIMIT %d OFFSET %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared conditions.
				max( 0, $limit ),
				max( 0, $offset )
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
				'settled_at'    => (int) $row['settled_at'],
				'outcome'       => (string) $row['outcome'],
				'user_id'       => (int) $row['user_id'],
				'error_code'    => (string) $row['error_code'],
				'error_message' => (string) $row['error_message'],
			),
			(array) $rows
		);
	}

	/**
	 * How many rows list() would page through.
	 */
	public function count_listed( ?string $state, ?string $contact_id ): int {
		global $wpdb;
		$wpdb->flush();
		$count = $wpdb->get_var( 'SELECT COUNT(*) FROM ' . self::table() . ' WHERE ' . self::filter( $state, $contact_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared conditions.
		$this->throw_on_db_error( 'Could not count events' );
		return (int) $count;
	}

	/**
	 * An administrator's Retry: the events in $ids (every failed event when null) that the
	 * extension lets an administrator retry go back to pending, due now by the database's
	 * clock, attempts from zero, the last error cleared. Claimed and done events never move.
	 *
	 * @param int[]|null $ids Event ids, or null for every failed event.
	 * @return int How many events were requeued.
	 */
	public function requeue( ?array $ids ): int {
		$set = "SET state = 'pending', due_at = UNIX_TIMESTAMP(), attempts = 0, claim_token = '', lease_until = 0, settled_at = 0, error_code = '', error_message = ''";
		$count = 0;
		foreach ( $this->targets( $ids, 'retry_states' ) as $where ) {
			$count += $this->write( 'UPDATE ' . self::table() . " {$set} WHERE {$where}", 'Could not requeue events' );
		}
		return $count;
	}

	/**
	 * An administrator's Discard: deletes the events in $ids (every failed event when null)
	 * that the extension lets an administrator discard; never a claimed or a done one.
	 *
	 * @param int[]|null $ids Event ids, or null for every failed event.
	 * @return int How many events were deleted.
	 */
	public function discard( ?array $ids ): int {
		$count = 0;
		foreach ( $this->targets( $ids, 'discard_states' ) as $where ) {
			$count += $this->delete_in_batches( $where, 'Could not discard events' );
		}
		return $count;
	}

	/**
	 * The queue at a glance: `counts` (every state => events in it), `oldest_waiting_at` (when
	 * the oldest pending, claimed or retrying event was accepted, or null) and `now` (the
	 * database's clock, to compare with).
	 *
	 * @return array{counts: array<string, int>, oldest_waiting_at: int|null, now: int}
	 */
	public function summary(): array {
		global $wpdb;
		$counts = array_fill_keys( array_keys( (array) self::rule( 'states' ) ), 0 );
		$wpdb->flush();
		$rows = $wpdb->get_results( 'SELECT state, COUNT(*) AS n FROM ' . self::table() . ' GROUP BY state', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		$this->throw_on_db_error( 'Could not count events' );
		foreach ( (array) $rows as $row ) {
			$counts[ (string) $row['state'] ] = (int) $row['n'];
		}
		$oldest = $wpdb->get_var( 'SELECT MIN(accepted_at) FROM ' . self::table() . ' WHERE ' . self::in_states( (array) self::rule( 'waiting_states' ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared states.
		$this->throw_on_db_error( 'Could not read the oldest waiting event' );
		return array(
			'counts'            => $counts,
			'oldest_waiting_at' => null === $oldest ? null : (int) $oldest,
			'now'               => $this->now(),
		);
	}

	/**
	 * Retention: deletes the events in the extension's `prune_states` (done and failed) settled
	 * before $done_before_unix, then the oldest done events beyond the newest $keep_at_most.
	 * Never a waiting event; in batches of PRUNE_BATCH rows, for about PRUNE_SECONDS per kind
	 * at most (the next call goes on).
	 *
	 * @return int How many events were deleted.
	 */
	public function prune( int $done_before_unix, int $keep_at_most ): int {
		global $wpdb;
		$deleted = 0;
		foreach ( (array) self::rule( 'prune_states' ) as $state ) {
			// One state at a time, so each DELETE reads one range of the state_settled index.
			$deleted += $this->delete_in_batches( $wpdb->prepare( 'state = %s AND settled_at < %d', (string) $state, $done_before_unix ), 'Could not prune events' );
		}
		$wpdb->flush();
		$edge = $wpdb->get_row(
			$wpdb->prepare( 'SELECT settled_at, id FROM ' . self::table() . " WHERE state = 'done' ORDER BY settled_at DESC, id DESC LIMIT 1 OFFSET %d", max( 0, $keep_at_most ) ), // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
			ARRAY_A
		);
		$this->throw_on_db_error( 'Could not prune events' );
		if ( is_array( $edge ) ) {
			$deleted += $this->delete_in_batches(
				$wpdb->prepare( "state = 'done' AND (settled_at < %d OR (settled_at = %d AND id <= %d))", (int) $edge['settled_at'], (int) $edge['settled_at'], (int) $edge['id'] ),
				'Could not prune events'
			);
		}
		return $deleted;
	}

	/** Rows one DELETE of prune() or discard() takes at most. */
	private const PRUNE_BATCH = 5000;

	/**
	 * Seconds of DELETEs one prune() (per kind) or discard() call starts batches within: the
	 * minute tick must not be held long. Measured on the e2e stack (2 shared cores, rows of
	 * 1.5 KB): about 4,000 rows a second, so some 20,000 a call per kind, more than a busy site
	 * settles in a minute; a backlog (a first run, after a storm) goes over a few ticks.
	 */
	private const PRUNE_SECONDS = 5;

	/** Ids one statement of requeue() or discard() names at most. */
	private const IDS_PER_STATEMENT = 500;

	/**
	 * Deletes the rows matching $where in batches, for PRUNE_SECONDS at most. No ORDER BY: every
	 * matching row goes, and without it the range of the state index is read instead of the
	 * primary key from its start (measured with 60,000 old done rows behind 100,000 newer ones:
	 * 20,000 deleted in 13.3 s with ORDER BY id, 45,000 in 10.9 s without).
	 */
	private function delete_in_batches( string $where, string $what ): int {
		$deleted = 0;
		$until   = microtime( true ) + self::PRUNE_SECONDS;
		do {
			$n        = $this->write( 'DELETE FROM ' . self::table() . " WHERE {$where} LIMIT " . self::PRUNE_BATCH, $what );
			$deleted += $n;
		} while ( self::PRUNE_BATCH === $n && microtime( true ) < $until );
		return $deleted;
	}

	/**
	 * The WHERE conditions an administrator's operation runs with: the failed events when $ids
	 * is null, else the given ids (in chunks) in the states the extension's rule $rule allows.
	 *
	 * @param int[]|null $ids  Event ids, or null.
	 * @param string     $rule retry_states or discard_states.
	 * @return string[]
	 */
	private function targets( ?array $ids, string $rule ): array {
		$allowed = (array) self::rule( $rule );
		if ( null === $ids ) {
			return in_array( 'failed', $allowed, true ) ? array( "state = 'failed'" ) : array();
		}
		$ids = array_values( array_unique( array_filter( array_map( 'intval', $ids ), static fn( $id ) => $id > 0 ) ) );
		$out = array();
		foreach ( array_chunk( $ids, self::IDS_PER_STATEMENT ) as $chunk ) {
			$out[] = self::in_states( $allowed ) . ' AND id IN (' . implode( ',', $chunk ) . ')';
		}
		return $out;
	}

	/**
	 * `state IN (...)` for a list of state names (prepared); never matches when empty.
	 *
	 * @param string[] $states State names.
	 */
	private static function in_states( array $states ): string {
		global $wpdb;
		$states = array_values( array_filter( $states, 'is_string' ) );
		if ( array() === $states ) {
			return '0=1';
		}
		return $wpdb->prepare( 'state IN (' . implode( ',', array_fill( 0, count( $states ), '%s' ) ) . ')', $states ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- placeholders only.
	}

	/**
	 * The list()/count_listed() condition: one state, one contact, both or none.
	 */
	private static function filter( ?string $state, ?string $contact_id ): string {
		global $wpdb;
		$where = array( '1=1' );
		if ( null !== $state ) {
			$where[] = $wpdb->prepare( 'state = %s', $state );
		}
		if ( null !== $contact_id ) {
			// Every CRM named, so the contact index (crm, contact_id) finds the rows: without
			// it a contact filter read the whole table (2.3 s for 152,000 rows).
			$crms    = array_keys( (array) ( WPF_Bridge_Extension::rules()['crms'] ?? array() ) );
			$where[] = $crms
				? $wpdb->prepare( 'crm IN (' . implode( ',', array_fill( 0, count( $crms ), '%s' ) ) . ') AND contact_id = %s', array_merge( $crms, array( $contact_id ) ) ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- placeholders only.
				: $wpdb->prepare( 'contact_id = %s', $contact_id );
		}
		return implode( ' AND ', $where );
	}

	/**
	 * One of the extension's queue rules (wpf_bridge_rules()['queue']).
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	private static function rule( string $key ): mixed {
		$rules = WPF_Bridge_Extension::rules();
		if ( ! isset( $rules['queue'][ $key ] ) ) {
			throw new RuntimeException( 'The wpf_bridge extension is not loaded' );
		}
		return $rules['queue'][ $key ];
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
	 * Runs one UPDATE, DELETE or store()'s INSERT (a transaction of its own under autocommit). InnoDB may pick it
	 * as the victim of a deadlock with another worker's statement, which rolls it back whole:
	 * then it is run again, a few times, before giving up.
	 *
	 * @return int Rows changed.
	 */
	private function write( string $sql, string $what ): int {
		global $wpdb;
		for ( $try = 1; ; $try++ ) {
			$wpdb->flush();
			$changed = $wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by the callers.
			$error = (string) $wpdb->last_error;
			if ( '' === $error || $try >= self::DEADLOCK_TRIES || ! self::is_deadlock( $error ) ) {
				break;
			}
			usleep( random_int( 1000, 20000 ) * $try );
		}
		$this->throw_on_db_error( $what );
		return (int) $changed;
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
