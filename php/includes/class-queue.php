<?php
/**
 * The queue adapter: the extension's storage port for queued webhooks (src/queue/port.rs,
 * trait `Queue`; in PHP the interface `WpfBridge\Queue` the extension declares, whose
 * contract stubs/wpf_bridge.stubs.php documents), in the table `{prefix}wpf_bridge_queue`
 * (schema: WPF_Bridge_Queue_Schema).
 *
 * The extension calls these methods and makes every decision (what to store, when to
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
 * This class is the port alone: the administrator's operations are WPF_Bridge_Queue_Admin's,
 * retention's delete is WPF_Bridge_Retention::prune_queue(). It implements an interface of
 * the extension, so it can be loaded only where the extension is:
 * code that must run without it (the installer, uninstall, the CLI's status) uses
 * WPF_Bridge_Queue_Schema and WPF_Bridge_Queue_Admin directly.
 * The same contract is checked against this table, the PHPUnit ArrayQueue and the Rust
 * in-memory queue by one conformance suite (tests/conformance/queue.json).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The queue table, as the extension sees it.
 */
final class WPF_Bridge_Queue implements WpfBridge\Queue {

	/**
	 * Option holding the last waiting_load() figures: `at` (PHP time), `events`, `bytes`.
	 * Autoloaded where options come from the database (no persistent object cache), so a
	 * webhook reads it with the options WordPress loads anyway, not with a query of its own; a
	 * persistent object cache keeps it out of `alloptions`, which it would rewrite every few
	 * seconds, and answers it from the cache.
	 */
	public const LOAD_OPTION = 'wpf_bridge_queue_load';

	/** Rounds of store() (a key freed by a claim between its INSERT and its read is stored again). */
	private const STORE_TRIES = 3;

	/**
	 * The database's clock, in Unix seconds (the same for every PHP server on this database).
	 */
	public function now(): int {
		return WPF_Bridge_Table::now();
	}

	/**
	 * Stores the rows of one accepted webhook in one INSERT, due at once, each under its
	 * delivery key: a row whose key a waiting, unclaimed row holds is not stored again, and
	 * that row's id is returned for it. One row (a webhook's usual one event) gets its id from
	 * the INSERT itself: `id = LAST_INSERT_ID(id)` on a held key makes the holder's id the
	 * statement's insert id, so the answer costs no read. Several rows are read back by key (a
	 * row of this INSERT may be claimed at once, which frees its key, so its own `batch` finds
	 * it too); a key freed between the INSERT and the read (its holder was just claimed) is
	 * stored again, as any delivery arriving after a claim is; STORE_TRIES rounds at most. A
	 * row without a key (the tests' direct calls) gets one of its own, so it is never taken
	 * for another.
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
			// Run again when chosen as a deadlock victim (WPF_Bridge_Table::write()): with the keys, a second run
			// stores nothing twice.
			WPF_Bridge_Table::write(
				'INSERT INTO ' . WPF_Bridge_Queue_Schema::name() . ' (crm, contact_id, state, attempts, due_at, batch, accepted_at, error_message, data, head, delivery_key, delivery_open, bytes) VALUES ' . implode( ', ', $values ) . ' ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared rows.
				'Could not store the events'
			);
			if ( 1 === count( $left ) && (int) $wpdb->insert_id > 0 ) {
				// One row (a webhook's usual one event): the INSERT itself answers its id, the new
				// row's or, through LAST_INSERT_ID(id), the waiting holder's of its key, in the same
				// atomic statement; no read back.
				$ids[ reset( $left ) ] = (int) $wpdb->insert_id;
				$left                  = array();
				break;
			}
			$wanted = array_map( static fn( $i ) => $keys[ $i ], $left );
			$found  = $wpdb->get_results(
				$wpdb->prepare(
					'SELECT id, delivery_key, batch FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE delivery_key IN (' . implode( ',', array_fill( 0, count( $wanted ), '%s' ) ) . ') AND (delivery_open = 1 OR batch = %s) ORDER BY id ASC', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name and placeholders.
					array_merge( $wanted, array( $batch ) )
				),
				ARRAY_A
			);
			WPF_Bridge_Table::check( 'Could not read the stored events' );
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

	/**
	 * The waiting events (pending, claimed, retrying) and their bytes, at most $max_age
	 * seconds old: the last figures (an option, LOAD_OPTION), refreshed when older by the
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
			$row = $wpdb->get_row( 'SELECT COUNT(*) AS events, COALESCE(SUM(bytes), 0) AS bytes FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE ' . WPF_Bridge_Queue_Schema::in_states( (array) WPF_Bridge_Queue_Schema::rule( 'waiting_states' ) ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared states.
			WPF_Bridge_Table::check( 'Could not measure the queue' );
			$load = array(
				'events' => (int) ( $row['events'] ?? 0 ),
				'bytes'  => (int) ( $row['bytes'] ?? 0 ),
				'at'     => time(),
			);
			update_option( self::LOAD_OPTION, $load, ! wp_using_ext_object_cache() );
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
				'SELECT contact_id, COUNT(*) AS n FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE crm = %s AND contact_id IN (' . implode( ',', array_fill( 0, count( $contact_ids ), '%s' ) ) . ') AND ' . WPF_Bridge_Queue_Schema::in_states( (array) WPF_Bridge_Queue_Schema::rule( 'waiting_states' ) ) . ' GROUP BY contact_id', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name, placeholders and prepared states.
				array_merge( array( $crm ), $contact_ids )
			),
			ARRAY_A
		);
		WPF_Bridge_Table::check( 'Could not count waiting events' );
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
				'SELECT crm, contact_id, MIN(id) AS first FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE ' . self::DUE . ' GROUP BY crm, contact_id ORDER BY first ASC LIMIT %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a constant condition.
				$limit
			),
			ARRAY_A
		);
		WPF_Bridge_Table::check( 'Could not list due contacts' );
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
		WPF_Bridge_Table::write(
			$wpdb->prepare(
				'UPDATE ' . WPF_Bridge_Queue_Schema::name() . " SET dead_claims = dead_claims + (state = 'claimed'), state = 'claimed', claim_token = %s, lease_until = UNIX_TIMESTAMP() + %d, attempts = attempts + 1, delivery_open = NULL WHERE crm = %s AND contact_id = %s AND " . self::DUE . ' ORDER BY id ASC LIMIT %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and a constant condition.
				$token,
				max( 1, $lease_seconds ),
				$crm,
				$contact_id,
				max( 1, $max_rows )
			),
			'Could not claim events'
		);
		$rows = $wpdb->get_results(
			$wpdb->prepare( 'SELECT id, attempts, dead_claims, IF(head = \'\', data, head) AS head FROM ' . WPF_Bridge_Queue_Schema::name() . " WHERE claim_token = %s AND state = 'claimed' AND crm = %s AND contact_id = %s ORDER BY id ASC", $token, $crm, $contact_id ), // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
			ARRAY_A
		);
		WPF_Bridge_Table::check( 'Could not read claimed events' );
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
		$data = $wpdb->get_var( $wpdb->prepare( 'SELECT data FROM ' . WPF_Bridge_Queue_Schema::name() . " WHERE id = %d AND claim_token = %s AND state = 'claimed'", $id, $token ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		WPF_Bridge_Table::check( 'Could not read an event' );
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
				'error_message' => mb_strcut( $message, 0, WPF_Bridge_Queue_Schema::MESSAGE_MAX ),
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
				'error_message' => mb_strcut( $message, 0, WPF_Bridge_Queue_Schema::MESSAGE_MAX ),
			)
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
		WPF_Bridge_Table::write(
			$wpdb->prepare(
				'UPDATE ' . WPF_Bridge_Queue_Schema::name() . ' SET ' . implode( ', ', $set ) . " WHERE claim_token = %s AND state = 'claimed' AND id IN (" . implode( ',', $ids ) . ')', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name, prepared assignments, integer ids.
				$token
			),
			'Could not settle events'
		);
	}

	/**
	 * How many events are in $state (WPF_Bridge_Queue_Admin::count()).
	 */
	public function count( string $state ): int {
		return WPF_Bridge_Queue_Admin::count( $state );
	}

	/**
	 * Rows, newest first (WPF_Bridge_Queue_Admin::list()).
	 *
	 * @return array<int, array<string, mixed>>
	 */
	public function list( ?string $state, ?string $contact_id, int $limit, int $offset = 0 ): array {
		return WPF_Bridge_Queue_Admin::list( $state, $contact_id, $limit, $offset );
	}
}
