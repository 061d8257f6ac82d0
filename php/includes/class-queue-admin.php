<?php
/**
 * The administrator's view of the queue table: counts, the paged list the webhooks page shows,
 * the summary Site Health and `wp wpf-bridge queue status` read, and the Retry (requeue) and
 * Discard operations of the webhooks page and the CLI.
 *
 * Decides nothing: which states Retry and Discard may touch, which are waiting and their
 * labels are the extension's rules (wpf_bridge_rules()['queue']). Nothing is deleted before it
 * is done or an administrator discards it, and a claimed event (in a worker's hands) is never
 * touched. Failures throw \RuntimeException with a short message, never the query.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Queries and operations on the queue for an administrator.
 */
final class WPF_Bridge_Queue_Admin {

	/** Ids one statement of requeue() or discard() names at most. */
	private const IDS_PER_STATEMENT = 500;

	/**
	 * How many events are in $state.
	 */
	public static function count( string $state ): int {
		global $wpdb;
		$wpdb->flush();
		$count = $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE state = %s', $state ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		WPF_Bridge_Table::check( 'Could not count events' );
		return (int) $count;
	}

	/**
	 * Rows, newest first, optionally of one state and one contact (never their data), from the
	 * $offset-th on (the webhooks page's paging).
	 *
	 * @return array<int, array<string, mixed>>
	 */
	public static function list( ?string $state, ?string $contact_id, int $limit, int $offset = 0 ): array {
		global $wpdb;
		$wpdb->flush();
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT id, crm, contact_id, state, attempts, accepted_at, due_at, settled_at, outcome, user_id, error_code, error_message FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE ' . self::filter( $state, $contact_id ) . ' ORDER BY id DESC LIMIT %d OFFSET %d', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared conditions.
				max( 0, $limit ),
				max( 0, $offset )
			),
			ARRAY_A
		);
		WPF_Bridge_Table::check( 'Could not list events' );
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
	public static function count_listed( ?string $state, ?string $contact_id ): int {
		global $wpdb;
		$wpdb->flush();
		$count = $wpdb->get_var( 'SELECT COUNT(*) FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE ' . self::filter( $state, $contact_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared conditions.
		WPF_Bridge_Table::check( 'Could not count events' );
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
	public static function requeue( ?array $ids ): int {
		$set = "SET state = 'pending', due_at = UNIX_TIMESTAMP(), attempts = 0, claim_token = '', lease_until = 0, settled_at = 0, error_code = '', error_message = ''";
		$count = 0;
		foreach ( self::targets( $ids, 'retry_states' ) as $where ) {
			$count += WPF_Bridge_Table::write( 'UPDATE ' . WPF_Bridge_Queue_Schema::name() . " {$set} WHERE {$where}", 'Could not requeue events' );
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
	public static function discard( ?array $ids ): int {
		$count = 0;
		foreach ( self::targets( $ids, 'discard_states' ) as $where ) {
			$count += WPF_Bridge_Queue_Schema::table()->delete_in_batches( $where, 'Could not discard events' );
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
	public static function summary(): array {
		global $wpdb;
		$counts = array_fill_keys( array_keys( (array) WPF_Bridge_Queue_Schema::rule( 'states' ) ), 0 );
		$wpdb->flush();
		$rows = $wpdb->get_results( 'SELECT state, COUNT(*) AS n FROM ' . WPF_Bridge_Queue_Schema::name() . ' GROUP BY state', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
		WPF_Bridge_Table::check( 'Could not count events' );
		foreach ( (array) $rows as $row ) {
			$counts[ (string) $row['state'] ] = (int) $row['n'];
		}
		$oldest = $wpdb->get_var( 'SELECT MIN(accepted_at) FROM ' . WPF_Bridge_Queue_Schema::name() . ' WHERE ' . WPF_Bridge_Queue_Schema::in_states( (array) WPF_Bridge_Queue_Schema::rule( 'waiting_states' ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name and prepared states.
		WPF_Bridge_Table::check( 'Could not read the oldest waiting event' );
		return array(
			'counts'            => $counts,
			'oldest_waiting_at' => null === $oldest ? null : (int) $oldest,
			'now'               => WPF_Bridge_Table::now(),
		);
	}

	/**
	 * The WHERE conditions an administrator's operation runs with: the failed events when $ids
	 * is null, else the given ids (in chunks) in the states the extension's rule $rule allows.
	 *
	 * @param int[]|null $ids  Event ids, or null.
	 * @param string     $rule retry_states or discard_states.
	 * @return string[]
	 */
	private static function targets( ?array $ids, string $rule ): array {
		$allowed = (array) WPF_Bridge_Queue_Schema::rule( $rule );
		if ( null === $ids ) {
			return in_array( 'failed', $allowed, true ) ? array( "state = 'failed'" ) : array();
		}
		$ids = array_values( array_unique( array_filter( array_map( 'intval', $ids ), static fn( $id ) => $id > 0 ) ) );
		$out = array();
		foreach ( array_chunk( $ids, self::IDS_PER_STATEMENT ) as $chunk ) {
			$out[] = WPF_Bridge_Queue_Schema::in_states( $allowed ) . ' AND id IN (' . implode( ',', $chunk ) . ')';
		}
		return $out;
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
}
