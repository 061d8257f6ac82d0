<?php
/**
 * The Site adapter: the extension's port to WordPress (src/site.rs, trait `Site`).
 *
 * It implements the extension's interface `WpfBridge\Site`, which the extension checks and the
 * stubs document; the extension calls these methods while it applies a webhook. Each one is a few
 * WordPress API calls and makes no decision; failures become a \RuntimeException with a short
 * message, which the extension turns into its `site_error`. Log lines are collected here for
 * the current webhook's log entry.
 *
 * Data handed to wp_insert_user, wp_update_user and the meta functions is slashed first,
 * because those functions unslash their input (they expect $_POST-style data).
 *
 * Under a contact's lock (lock() to unlock()), what the extension decides from is read from the
 * database, never from this request's object cache: the first read of each user after the
 * lock is taken drops that user's cached row and meta, so a long-lived drain sees what another
 * request (async=false, the CLI worker, Retry, a second server) applied meanwhile. And the
 * connection the lock was taken on is the only one used until it is released: wpdb may not
 * reconnect in between (a new connection would not hold the lock, and a newer version could
 * be applied by another worker meanwhile); a lost connection fails the apply instead, and its
 * events are claimed again after their lease.
 *
 * One apply's writes are one unit of work (begin_writes() to commit_writes(): a database
 * transaction on the connection that holds the lock), so they reach the disk in one commit,
 * not one per write, and a worker killed mid-apply leaves none of them. An error on which the
 * database ends a transaction or loses one of its writes (a deadlock, a lock wait timeout, a
 * lost connection) rolls the whole unit back. After a deadlock or a lock wait timeout the
 * connection and its locks are intact, so the extension runs the apply again at once (a
 * deadlock between two applies is a matter of timing, not of data); after a lost connection
 * the apply fails and is retried later. Other errors (another plugin's query in a hook) are
 * left as WordPress leaves them.
 *
 * On a multisite network the adapter works on the site the webhook was sent to: roles, the
 * default role and role changes are that site's, and a new user becomes a member of it. Users
 * and user meta (so the `{crm}_contact_id` link and `{crm}_tags`) belong to the network, as in
 * WP Fusion without its `multisite_prefix_keys` option; so do the per-contact locks.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * WordPress, as the extension sees it.
 */
final class WPF_Bridge_Site implements WpfBridge\Site {

	/**
	 * The wp_insert_user / wp_update_user fields the extension may set (its core user fields),
	 * less those given here apart ($except): a guard, so a core map can never carry `ID` or
	 * `role` into those calls.
	 *
	 * @param string[] $except Fields to leave out.
	 * @return array<string, int> Field => index, for array_intersect_key().
	 */
	private static function core_fields( array $except ): array {
		$rules = WPF_Bridge_Extension::rules();
		return array_flip( array_diff( (array) ( $rules['core_user_fields'] ?? array() ), $except ) );
	}

	/** MySQL and MariaDB refuse lock names longer than this. */
	private const LOCK_NAME_MAX = 64;

	/** Bounds for the collected log lines (one webhook). */
	private const LOG_LINE_MAX   = 1000;
	private const LOG_LINES_MAX  = 200;

	/**
	 * Log lines of the current webhook: list of [level, message].
	 *
	 * @var array<int, array{0: string, 1: string}>
	 */
	private array $log_lines = array();

	/** Contact locks this adapter holds now. */
	private int $locks_held = 0;

	/**
	 * Users read from the database since the current lock was taken (id => true).
	 *
	 * @var array<int, bool>
	 */
	private array $read_fresh = array();

	/**
	 * Contact links looked up by prime_contact_links(): meta key => value => user id.
	 *
	 * @var array<string, array<string, int>>
	 */
	private array $primed = array();

	/** wpdb's reconnect tries, kept while a lock is held (none are allowed then). */
	private ?int $reconnect_retries = null;

	/** Errors on which MySQL and MariaDB end a transaction or lose one of its writes. */
	private const UNIT_ENDING_ERRORS = '/deadlock|lock wait timeout|gone away|lost connection|server has gone/i';

	/** Of those, the ones that leave the connection and its locks intact: the unit can run again. */
	private const RERUNNABLE_ERRORS = '/deadlock|lock wait timeout/i';

	/** How many database errors WordPress had noted ($EZSQL_ERROR) when the open unit began. */
	private ?int $unit_errors_at = null;

	/**
	 * Users created in the open unit of work (id => true): their cached rows are dropped if
	 * the unit is rolled back.
	 *
	 * @var array<int, bool>
	 */
	private array $unit_users = array();

	/**
	 * Looks up, in one query, the lowest user id linked to each of these values of meta $key:
	 * WordPress indexes usermeta by key, not by value, so each lookup scans every row of the
	 * key, and a drain's round would otherwise scan them once per contact. find_user_by_meta()
	 * answers from this only when the user still holds the value (read fresh under the lock);
	 * anything else, a contact not linked at priming time included, is looked up as before.
	 *
	 * @param string   $key    The meta key (`{crm}_contact_id`).
	 * @param string[] $values Contact ids.
	 */
	public function prime_contact_links( string $key, array $values ): void {
		global $wpdb;
		$this->primed[ $key ] = array();
		foreach ( array_chunk( array_values( array_unique( array_map( 'strval', $values ) ) ), 500 ) as $chunk ) {
			$wpdb->flush();
			$rows = $wpdb->get_results(
				$wpdb->prepare(
					"SELECT meta_value, MIN(user_id) AS user_id FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value IN (" . implode( ', ', array_fill( 0, count( $chunk ), '%s' ) ) . ') GROUP BY meta_value',
					array_merge( array( $key ), $chunk )
				),
				ARRAY_A
			);
			$this->throw_on_db_error( 'Could not search user meta' );
			foreach ( (array) $rows as $row ) {
				$this->primed[ $key ][ (string) $row['meta_value'] ] = (int) $row['user_id'];
			}
		}
	}

	/**
	 * The lowest user id with this meta key and value (WP Fusion's lookup for `{crm}_contact_id`).
	 * A user primed by prime_contact_links() is taken when it holds the value now.
	 */
	public function find_user_by_meta( string $key, string $value ): ?int {
		global $wpdb;
		$primed = $this->primed[ $key ][ $value ] ?? null;
		if ( null !== $primed ) {
			unset( $this->primed[ $key ][ $value ] );
			$this->read_fresh( $primed );
			if ( in_array( $value, array_map( 'strval', (array) get_user_meta( $primed, $key ) ), true ) ) {
				return $primed;
			}
		}
		$id = $wpdb->get_var(
			$wpdb->prepare(
				"SELECT user_id FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value = %s ORDER BY user_id ASC LIMIT 1",
				$key,
				$value
			)
		);
		$this->throw_on_db_error( 'Could not search user meta' );
		return null === $id ? null : (int) $id;
	}

	/**
	 * The user with this email address.
	 */
	public function find_user_by_email( string $email ): ?int {
		$id = email_exists( $email );
		return $id ? (int) $id : null;
	}

	/**
	 * A user's id, login, email, roles on this site, every capability it holds here, and
	 * whether it is a super admin of the network (who holds every capability on every site,
	 * whatever its role there).
	 */
	public function user( int $id ): ?array {
		$this->read_fresh( $id );
		$user = get_userdata( $id );
		if ( ! $user ) {
			return null;
		}
		return array(
			'id'           => (int) $user->ID,
			'login'        => (string) $user->user_login,
			'email'        => (string) $user->user_email,
			'roles'        => array_values( array_map( 'strval', (array) $user->roles ) ),
			'capabilities' => array_map( 'strval', array_keys( array_filter( (array) $user->allcaps ) ) ),
			'super_admin'  => is_multisite() && is_super_admin( $user->ID ),
		);
	}

	/**
	 * Whether a user has this login.
	 */
	public function login_exists( string $login ): bool {
		return false !== username_exists( $login );
	}

	/**
	 * Creates a user. Sends no email: wp_insert_user never does, and the new-user notification
	 * is a separate call the extension makes when it decides to.
	 *
	 * @param array $user Keys login, email, password, role, core (wp_insert_user fields) and
	 *                    meta (user meta written by the same call through meta_input, so the
	 *                    user never exists without its `{crm}_contact_id` link).
	 */
	public function create_user( array $user ): int {
		$data = array_intersect_key( (array) ( $user['core'] ?? array() ), self::core_fields( array( 'user_login', 'user_email', 'user_pass' ) ) );

		$data['user_login'] = (string) ( $user['login'] ?? '' );
		$data['user_email'] = (string) ( $user['email'] ?? '' );
		$data['user_pass']  = (string) ( $user['password'] ?? '' );
		$data['role']       = (string) ( $user['role'] ?? '' );
		$data['meta_input'] = is_array( $user['meta'] ?? null ) ? $user['meta'] : array();

		$id = wp_insert_user( wp_slash( $data ) );
		if ( is_wp_error( $id ) ) {
			throw new RuntimeException( 'wp_insert_user failed: ' . self::error_message( $id ) );
		}
		if ( null !== $this->unit_errors_at ) {
			$this->unit_users[ (int) $id ] = true;
		}
		if ( is_multisite() && '' !== $data['role'] ) {
			// wp_insert_user() gave the role on this site; add_user_to_blog() also sets the
			// user's primary site and fires add_user_to_blog, as WP Fusion's import does.
			$added = add_user_to_blog( get_current_blog_id(), (int) $id, $data['role'] );
			if ( is_wp_error( $added ) ) {
				throw new RuntimeException( 'add_user_to_blog failed: ' . self::error_message( $added ) );
			}
		}
		return (int) $id;
	}

	/**
	 * Updates core user fields (first_name, ..., user_email, user_pass) with wp_update_user.
	 */
	public function update_user( int $id, array $core ): void {
		$data       = array_intersect_key( $core, self::core_fields( array( 'user_login' ) ) );
		$data['ID'] = $id;

		$result = wp_update_user( wp_slash( $data ) );
		if ( is_wp_error( $result ) ) {
			throw new RuntimeException( 'wp_update_user failed: ' . self::error_message( $result ) );
		}
	}

	/**
	 * One user meta value, or null when the key is absent.
	 */
	public function user_meta( int $id, string $key ): mixed {
		$this->read_fresh( $id );
		if ( ! metadata_exists( 'user', $id, $key ) ) {
			return null;
		}
		return get_user_meta( $id, $key, true );
	}

	/**
	 * Writes one user meta value.
	 */
	public function update_user_meta( int $id, string $key, mixed $value ): void {
		// false means "failed" or "unchanged"; WordPress does not tell which, so only a DB error counts.
		$GLOBALS['wpdb']->flush();
		update_user_meta( $id, wp_slash( $key ), wp_slash( $value ) );
		$this->throw_on_db_error( 'Could not write user meta' );
	}

	/**
	 * Deletes one user meta key.
	 */
	public function delete_user_meta( int $id, string $key ): void {
		$GLOBALS['wpdb']->flush();
		delete_user_meta( $id, wp_slash( $key ) );
		$this->throw_on_db_error( 'Could not delete user meta' );
	}

	/**
	 * Every registered role: slug, translated name, capabilities it grants.
	 */
	public function roles(): array {
		$roles = array();
		foreach ( wp_roles()->roles as $slug => $role ) {
			$roles[] = array(
				'slug'         => (string) $slug,
				'name'         => translate_user_role( (string) ( $role['name'] ?? $slug ) ),
				'capabilities' => array_map( 'strval', array_keys( array_filter( (array) ( $role['capabilities'] ?? array() ) ) ) ),
			);
		}
		return $roles;
	}

	/**
	 * The site's default role for new users.
	 */
	public function default_role(): string {
		return (string) get_option( 'default_role', 'subscriber' );
	}

	/**
	 * Replaces the user's roles with this one.
	 */
	public function set_role( int $id, string $role ): void {
		$user = get_userdata( $id );
		if ( ! $user ) {
			throw new RuntimeException( 'No user with id ' . $id );
		}
		$user->set_role( $role );
	}

	/**
	 * Sends WordPress's new-user email (with its set-password link) to the user only.
	 */
	public function send_new_user_notification( int $id ): void {
		wp_new_user_notification( $id, null, 'user' );
	}

	/**
	 * Takes a MySQL named lock, waiting up to $timeout seconds.
	 *
	 * Lock names are server-wide, so they are prefixed with this site's database and table prefix
	 * (the network's base prefix: users, like contact links, are the network's). While it is
	 * held, wpdb may not reconnect and users are read fresh (see the class comment).
	 */
	public function lock( string $name, int $timeout ): bool {
		global $wpdb;
		$result = $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', self::lock_name( $name ), max( 0, $timeout ) ) );
		if ( null === $result ) {
			throw new RuntimeException( 'GET_LOCK failed' );
		}
		if ( '1' !== (string) $result ) {
			return false;
		}
		if ( 0 === $this->locks_held++ ) {
			$this->reconnect_retries  = (int) $wpdb->reconnect_retries;
			$wpdb->reconnect_retries = 0;
		}
		$this->read_fresh = array();
		return true;
	}

	/**
	 * Releases a lock taken by lock(). wpdb may reconnect again first: a connection lost while
	 * the lock was held has lost the lock too, and this process goes on with others.
	 */
	public function unlock( string $name ): void {
		global $wpdb;
		if ( $this->locks_held > 0 && 0 === --$this->locks_held ) {
			$wpdb->reconnect_retries = $this->reconnect_retries ?? 5;
			$this->reconnect_retries = null;
			$this->read_fresh        = array();
		}
		$wpdb->flush();
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', self::lock_name( $name ) ) );
		$this->throw_on_db_error( 'RELEASE_LOCK failed' );
	}

	/**
	 * Opens one apply's unit of work: a transaction on this connection (the one the contact's
	 * lock was taken on), so the apply's writes are committed together.
	 */
	public function begin_writes(): void {
		global $wpdb, $EZSQL_ERROR;
		$wpdb->flush();
		$wpdb->query( 'START TRANSACTION' );
		$this->throw_on_db_error( 'START TRANSACTION failed' );
		$this->unit_errors_at = is_array( $EZSQL_ERROR ) ? count( $EZSQL_ERROR ) : 0;
		$this->unit_users     = array();
	}

	/**
	 * Commits the unit opened by begin_writes(): true when it was committed. When the database
	 * ended it early (an error of UNIT_ENDING_ERRORS on any query since, or on the COMMIT),
	 * everything since begin_writes() is rolled back and the cached copies of the users it
	 * touched are dropped; then it answers false after a deadlock or a lock wait timeout
	 * (nothing was kept, the connection and its locks are intact: the extension runs the apply
	 * again), and throws otherwise (a lost connection lost the contact's lock too).
	 *
	 * @throws RuntimeException When the unit was rolled back for another reason.
	 */
	public function commit_writes(): bool {
		global $wpdb, $EZSQL_ERROR;
		$since                = array_slice( is_array( $EZSQL_ERROR ) ? $EZSQL_ERROR : array(), (int) $this->unit_errors_at );
		$this->unit_errors_at = null;
		$errors               = array_map( static fn ( $error ): string => (string) ( $error['error_str'] ?? '' ), $since );
		$ending               = array_values( preg_grep( self::UNIT_ENDING_ERRORS, $errors ) );
		$wpdb->flush();
		if ( array() === $ending && false !== $wpdb->query( 'COMMIT' ) ) {
			$this->unit_users = array();
			return true;
		}
		$why = $ending[0] ?? (string) $wpdb->last_error;
		$wpdb->query( 'ROLLBACK' );
		foreach ( array_keys( $this->read_fresh + $this->unit_users ) as $id ) {
			clean_user_cache( $id );
			wp_cache_delete( $id, 'users' );
			wp_cache_delete( $id, 'user_meta' );
		}
		$this->read_fresh = array();
		$this->unit_users = array();
		if ( 1 === preg_match( self::RERUNNABLE_ERRORS, $why ) ) {
			return false;
		}
		throw new RuntimeException( 'the database ended the apply\'s transaction (' . ( '' === $why ? 'its COMMIT failed' : $why ) . '): none of its writes was kept' );
	}

	/**
	 * Under a lock, the first read of a user drops its cached row and meta, so it comes from
	 * the database (see the class comment); other reads of it use the cache, which this
	 * request's own writes keep current.
	 */
	private function read_fresh( int $id ): void {
		if ( $this->locks_held > 0 && ! isset( $this->read_fresh[ $id ] ) ) {
			wp_cache_delete( $id, 'users' );
			wp_cache_delete( $id, 'user_meta' );
			$this->read_fresh[ $id ] = true;
		}
	}

	/**
	 * Collects a log line for the current webhook's log entry. The extension never passes secrets.
	 */
	public function log( string $level, string $message ): void {
		if ( count( $this->log_lines ) >= self::LOG_LINES_MAX ) {
			return;
		}
		$this->log_lines[] = array( substr( $level, 0, 10 ), mb_substr( $message, 0, self::LOG_LINE_MAX ) );
	}

	/**
	 * Fires a WordPress action hook.
	 */
	public function do_action( string $hook, array $args ): void {
		do_action( $hook, ...array_values( $args ) );
	}

	/**
	 * The lines collected by log(), for the Log.
	 *
	 * @return array<int, array{0: string, 1: string}>
	 */
	public function log_lines(): array {
		return $this->log_lines;
	}

	/**
	 * A lock name unique to this network's database and table prefix, at most 64 characters.
	 */
	private static function lock_name( string $name ): string {
		global $wpdb;
		$full = DB_NAME . '.' . $wpdb->base_prefix . 'wpf_bridge.' . $name;
		if ( strlen( $full ) > self::LOCK_NAME_MAX ) {
			$full = 'wpf_bridge.' . substr( hash( 'sha256', $full ), 0, 52 );
		}
		return $full;
	}

	/**
	 * Turns the last database error into an exception (the query text is not included).
	 * Callers flush() $wpdb first, so an older error from another plugin is not mistaken for ours.
	 */
	private function throw_on_db_error( string $what ): void {
		global $wpdb;
		if ( '' !== (string) $wpdb->last_error ) {
			throw new RuntimeException( $what . ': database error' );
		}
	}

	/**
	 * A WP_Error's first message as plain text.
	 */
	private static function error_message( WP_Error $error ): string {
		return wp_strip_all_tags( $error->get_error_message() );
	}
}
