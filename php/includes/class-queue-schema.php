<?php
/**
 * The queue table's schema: its columns and indexes, create and upgrade (through the shared
 * WPF_Bridge_Table plumbing), the stored schema version, drop; and the two SQL pieces every
 * queue statement shares (`state IN (...)` for the extension's state lists, and the
 * extension's queue rules themselves). The installer calls create_table() on activation and
 * whenever is_current() says the stored version is not the code's; uninstall drops it.
 *
 * The statements on the table live by job: the port the extension calls (WPF_Bridge_Queue),
 * the administrator's queries (WPF_Bridge_Queue_Admin) and retention (WPF_Bridge_Retention).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The queue table `{prefix}wpf_bridge_queue`.
 */
final class WPF_Bridge_Queue_Schema {

	/** Table name without the WordPress prefix. */
	public const TABLE = 'wpf_bridge_queue';

	/** Bump when COLUMNS change; the installer runs dbDelta again on plugins_loaded. */
	public const SCHEMA_VERSION = 3;

	/** Option holding the table's schema version. */
	public const DB_VERSION_OPTION = 'wpf_bridge_queue_db_version';

	/** Bytes kept of an error sentence (`error_message`). */
	public const MESSAGE_MAX = 1000;

	/**
	 * The columns and keys, in the format dbDelta() parses (two spaces after PRIMARY KEY).
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
	 * `delivery` keep one copy of a delivery while it waits (see WPF_Bridge_Queue); `bytes`
	 * (the data's length) and `state_bytes` let waiting_load() sum the waiting rows from an
	 * index alone, without reading their data.
	 */
	private const COLUMNS = "
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
";

	/**
	 * The table (its name, dbDelta, version option, drop, batched deletes).
	 */
	public static function table(): WPF_Bridge_Table {
		return new WPF_Bridge_Table( self::TABLE, self::DB_VERSION_OPTION, self::SCHEMA_VERSION );
	}

	/**
	 * Full table name.
	 */
	public static function name(): string {
		return self::table()->name();
	}

	/**
	 * Creates or upgrades the table and records its schema version.
	 */
	public static function create_table(): void {
		$table = self::table();
		$from  = $table->stored_version();
		$table->create( self::COLUMNS );
		if ( $from > 0 && $from < 3 && ! self::upgrade_to_3() ) {
			return; // Not recorded: the next load tries again.
		}
		$table->record_version();
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
		$table   = self::table()->name();
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
		return self::table()->is_current();
	}

	/**
	 * Drops the table and its version option (uninstall).
	 */
	public static function drop_table(): void {
		self::table()->drop();
	}

	/**
	 * `state IN (...)` for a list of state names (prepared); never matches when empty.
	 *
	 * @param string[] $states State names.
	 */
	public static function in_states( array $states ): string {
		global $wpdb;
		$states = array_values( array_filter( $states, 'is_string' ) );
		if ( array() === $states ) {
			return '0=1';
		}
		return $wpdb->prepare( 'state IN (' . implode( ',', array_fill( 0, count( $states ), '%s' ) ) . ')', $states ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- placeholders only.
	}

	/**
	 * One of the extension's queue rules (wpf_bridge_rules()['queue']).
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function rule( string $key ): mixed {
		$rules = WPF_Bridge_Extension::rules();
		if ( ! isset( $rules['queue'][ $key ] ) ) {
			throw new RuntimeException( 'The wpf_bridge extension is not loaded' );
		}
		return $rules['queue'][ $key ];
	}
}
