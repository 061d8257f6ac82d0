<?php
/**
 * Opt-in argon2id password hashing (setting `argon2_passwords`), on every WordPress version.
 *
 * The rule: with the setting on, every password WordPress accepts with it off keeps working
 * exactly as it does then; only the hash is argon2id. So hash() trims the password and applies
 * the 4,096-byte limit (and its '*') as core does for its own hash on that version, and argon2id
 * is written only where the users table holds it whole: on a users table from before WordPress
 * 4.4 (user_pass varchar(64)) an argon2id hash (97 characters) would be refused or cut, so there
 * the setting is refused when saved, Site Health says why, and core's own hash is written.
 *
 * WordPress 6.8 and later hash with password_hash() behind two filters, check every hash type
 * WordPress ever wrote (md5, phpass, bcrypt, their `$wp$2y$` prehashed bcrypt, and argon2
 * through password_verify) and rehash at login whatever wp_password_needs_rehash() says. There
 * the setting asks core for PASSWORD_ARGON2ID (`wp_hash_password_algorithm`,
 * `wp_hash_password_options`), so checks and wp_password_needs_rehash() are core's, and
 * includes/pluggable-passwords.php replaces wp_hash_password() only, with hash() below: core's
 * own, trimming for every algorithm (core trims for bcrypt only). Older hashes become argon2id at
 * the next login, and turning the setting off makes core rehash them back to its bcrypt.
 *
 * Older WordPress (6.1 to 6.7) only knows md5 and phpass, so there includes/pluggable-passwords.php
 * replaces wp_hash_password() and wp_check_password() with hash() and check() below when the
 * setting is on: new hashes are argon2id from the extension (PHP's PHC format); every hash type
 * above is checked, and any other than argon2id is rehashed to argon2id after a successful
 * login. check_fallback() is hooked whether or not the setting is on, so users whose hash is
 * argon2 or `$wp$2y$` (written while the setting was on, or by WordPress 6.8 before a
 * downgrade) still log in when it is off or the extension is removed.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Password hashing: core's filters on 6.8+, the pluggable functions before.
 */
final class WPF_Bridge_Passwords {

	/** WordPress's phpass refuses longer passwords; the same limit applies to every hash type. */
	private const MAX_PASSWORD_LENGTH = 4096;

	/** The first WordPress version whose wp_hash_password() has the algorithm filters. */
	private const CORE_FILTERS_SINCE = '6.8-alpha';

	/**
	 * Length of an argon2id hash at PHP's default cost, as the extension and password_hash()
	 * write it: `$argon2id$v=19$m=65536,t=4,p=1$` (31), a 16-byte salt (22), `$`, a 32-byte
	 * hash (43). The users table must hold this many characters for the setting to take effect.
	 */
	public const ARGON2ID_HASH_LENGTH = 97;

	/** user_pass as WordPress 4.4 and later create it (wp-admin/includes/schema.php). */
	private const USER_PASS_COLUMN = "varchar(255) NOT NULL default ''";

	/**
	 * Hooks what the setting and the WordPress version need. Runs while plugins load (the
	 * pluggable functions must exist before wp-includes/pluggable.php is read).
	 */
	public static function register(): void {
		$enabled      = WPF_Bridge_Settings::argon2_passwords_enabled();
		$core_filters = self::core_has_algorithm_filters();
		if ( $enabled && ( ! $core_filters || defined( 'PASSWORD_ARGON2ID' ) ) ) {
			require_once WPF_BRIDGE_PLUGIN_DIR . '/includes/pluggable-passwords.php';
		}
		if ( $core_filters ) {
			if ( $enabled && defined( 'PASSWORD_ARGON2ID' ) ) {
				add_filter( 'wp_hash_password_algorithm', array( __CLASS__, 'algorithm' ) );
				add_filter( 'wp_hash_password_options', array( __CLASS__, 'options' ), 10, 2 );
			}
			return;
		}
		if ( $enabled ) {
			// Core before 6.8 ties cookies to the hash's characters 8-11, constant in argon2id
			// hashes: end the sessions explicitly when a password changes.
			add_action( 'profile_update', array( __CLASS__, 'end_sessions_after_update' ), 10, 2 );
			add_action( 'after_password_reset', array( __CLASS__, 'end_sessions_after_reset' ), 10, 1 );
		}
		add_filter( 'check_password', array( __CLASS__, 'check_fallback' ), 10, 4 );
	}

	/**
	 * Whether this WordPress hashes through password_hash() with the algorithm filters (6.8+).
	 */
	public static function core_has_algorithm_filters(): bool {
		return version_compare( (string) ( $GLOBALS['wp_version'] ?? '0' ), self::CORE_FILTERS_SINCE, '>=' );
	}

	/**
	 * Why the setting is on but not in force, or null when it works (for Site Health).
	 */
	public static function problem(): ?string {
		if ( ! WPF_Bridge_Settings::argon2_passwords_enabled() ) {
			return null;
		}
		$column = self::column_problem();
		if ( null !== $column ) {
			/* translators: %s: why the users table cannot hold the hash, and how to widen it */
			return sprintf( __( 'Argon2id passwords are on, but WordPress keeps writing its own hashes: %s', 'wpf-bridge' ), $column );
		}
		if ( self::core_has_algorithm_filters() ) {
			if ( ! defined( 'PASSWORD_ARGON2ID' ) ) {
				return __( 'Argon2id passwords are on, but this PHP was built without argon2 (PASSWORD_ARGON2ID), so WordPress keeps hashing with bcrypt.', 'wpf-bridge' );
			}
			if ( ! defined( 'WPF_BRIDGE_PLUGGABLE_HASH' ) ) {
				return __( 'Argon2id passwords are on, but another plugin already replaces wp_hash_password(), so WPF Bridge cannot trim passwords as WordPress does: a password set with leading or trailing spaces may not log in. Turn the setting off, or remove the other plugin.', 'wpf-bridge' );
			}
			return null;
		}
		if ( ! ( defined( 'WPF_BRIDGE_PLUGGABLE_HASH' ) && defined( 'WPF_BRIDGE_PLUGGABLE_CHECK' ) ) ) {
			return __( 'Argon2id passwords are on, but another plugin already replaces wp_hash_password() and wp_check_password(), so WPF Bridge\'s versions are not used.', 'wpf-bridge' );
		}
		return null;
	}

	/**
	 * Why settings that turn argon2id passwords on cannot be saved, or null when they can (the
	 * settings page refuses the save with this message).
	 *
	 * @param array $settings The settings about to be saved.
	 */
	public static function refusal( array $settings ): ?string {
		if ( empty( $settings['argon2_passwords'] ) ) {
			return null;
		}
		$column = self::column_problem();
		if ( null === $column ) {
			return null;
		}
		/* translators: %s: why the users table cannot hold the hash, and how to widen it */
		return sprintf( __( '"Argon2id hashes" cannot be turned on: %s', 'wpf-bridge' ), $column );
	}

	/**
	 * Why the users table cannot hold an argon2id hash, with the statement that widens its
	 * column, or null when it can.
	 */
	private static function column_problem(): ?string {
		global $wpdb;
		$width = self::column_width();
		if ( self::column_holds( self::ARGON2ID_HASH_LENGTH ) ) {
			return null;
		}
		return sprintf(
			/* translators: 1: table name, 2: column width, 3: hash length, 4: SQL statement */
			__( 'the user_pass column of the %1$s table holds %2$d characters and an argon2id hash has %3$d, so it cannot be stored whole and the password would not log in (the table has the schema of WordPress before 4.4). Widen the column as WordPress 4.4 and later create it, then turn the setting on: %4$s', 'wpf-bridge' ),
			$wpdb->users,
			(int) $width,
			self::ARGON2ID_HASH_LENGTH,
			sprintf( 'ALTER TABLE `%s` MODIFY `user_pass` %s;', $wpdb->users, self::USER_PASS_COLUMN )
		);
	}

	/**
	 * The width of the users table's user_pass column in characters, or null when the database
	 * does not say (then, as for $wpdb, there is no limit to respect).
	 */
	private static function column_width(): ?int {
		global $wpdb;
		// $wpdb reads the table's columns once per request and keeps them; it checks its own
		// writes against the same widths.
		$length = $wpdb->get_col_length( $wpdb->users, 'user_pass' );
		return is_array( $length ) && ! empty( $length['length'] ) ? (int) $length['length'] : null;
	}

	/**
	 * Whether user_pass holds a hash of this many characters whole: the one rule deciding
	 * whether argon2id is written.
	 *
	 * @param int $length Hash length.
	 */
	private static function column_holds( int $length ): bool {
		$width = self::column_width();
		return null === $width || $length <= $width;
	}

	/**
	 * wp_hash_password_algorithm (6.8+): argon2id, where the users table holds it. Core's
	 * wp_password_needs_rehash() asks this too, so a table that cannot hold argon2id never has a
	 * rehash to it asked for at login.
	 *
	 * @param string|int $algorithm Core's choice (PASSWORD_BCRYPT).
	 */
	public static function algorithm( $algorithm ) {
		return self::column_holds( self::ARGON2ID_HASH_LENGTH ) ? PASSWORD_ARGON2ID : $algorithm;
	}

	/**
	 * wp_hash_password_options (6.8+): PHP's default argon2id cost, stated, so hashes and
	 * wp_password_needs_rehash() agree with the extension's hashes on older versions.
	 *
	 * @param array      $options   Options for password_hash().
	 * @param string|int $algorithm The algorithm in force.
	 */
	public static function options( $options, $algorithm = null ): array {
		$options = is_array( $options ) ? $options : array();
		if ( PASSWORD_ARGON2ID !== $algorithm ) {
			return $options;
		}
		return $options + array(
			'memory_cost' => PASSWORD_ARGON2_DEFAULT_MEMORY_COST,
			'time_cost'   => PASSWORD_ARGON2_DEFAULT_TIME_COST,
			'threads'     => PASSWORD_ARGON2_DEFAULT_THREADS,
		);
	}

	/**
	 * wp_hash_password() while the setting is on: what core's own writes with the setting off
	 * (the same trimming, the same 4,096-byte limit and its '*'), but argon2id where the users
	 * table holds it whole; otherwise core's own hash.
	 *
	 * @param string $password Plain password.
	 */
	public static function hash( $password ): string {
		$password = (string) $password;
		if ( self::core_has_algorithm_filters() ) {
			return self::hash_with_core_filters( $password );
		}
		// Core before 6.8: phpass, which refuses a password longer than 4,096 bytes once trimmed.
		$password = trim( $password );
		if ( strlen( $password ) > self::MAX_PASSWORD_LENGTH ) {
			return '*';
		}
		if ( function_exists( 'wpf_bridge_hash_password' ) && self::column_holds( self::ARGON2ID_HASH_LENGTH ) ) {
			try {
				$hash = (string) wpf_bridge_hash_password( $password );
				if ( self::column_holds( strlen( $hash ) ) ) {
					return $hash;
				}
			} catch ( \Throwable $e ) {
				// Fall back to phpass: a working login matters more than the hash type.
				unset( $e );
			}
		}
		return self::phpass()->HashPassword( $password );
	}

	/**
	 * Core 6.8's wp_hash_password(), but trimming the password for every algorithm (core trims
	 * for bcrypt only, while wp_authenticate() trims what the user types), and falling back to
	 * core's bcrypt when the hash would not fit the users table.
	 *
	 * @param string $password Plain password.
	 */
	private static function hash_with_core_filters( string $password ): string {
		global $wp_hasher;
		if ( ! empty( $wp_hasher ) ) {
			return $wp_hasher->HashPassword( trim( $password ) );
		}
		// As core: the limit applies to the password as given, before trimming.
		if ( strlen( $password ) > self::MAX_PASSWORD_LENGTH ) {
			return '*';
		}
		$password = trim( $password );

		/** This filter is documented in wp-includes/pluggable.php */
		$algorithm = apply_filters( 'wp_hash_password_algorithm', PASSWORD_BCRYPT );
		/** This filter is documented in wp-includes/pluggable.php */
		$options = apply_filters( 'wp_hash_password_options', array(), $algorithm );

		if ( PASSWORD_BCRYPT !== $algorithm ) {
			$hash = password_hash( $password, $algorithm, $options );
			if ( self::column_holds( strlen( $hash ) ) ) {
				return $hash;
			}
			// A cost raised by another filter can make even a wide enough column too narrow.
			/** This filter is documented in wp-includes/pluggable.php */
			$options = apply_filters( 'wp_hash_password_options', array(), PASSWORD_BCRYPT );
		}
		// Core's bcrypt: SHA-384 keeps the entropy of passwords longer than 72 bytes.
		$prehashed = base64_encode( hash_hmac( 'sha384', $password, 'wp-sha384', true ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- the format of core's hash.
		return '$wp' . password_hash( $prehashed, PASSWORD_BCRYPT, $options );
	}

	/**
	 * wp_check_password() before 6.8: checks any hash WordPress or this plugin wrote, upgrades
	 * every other kind to argon2id.
	 *
	 * @param string     $password Plain password.
	 * @param string     $hash     Stored hash.
	 * @param string|int $user_id  User id, when the hash is that user's password (may be empty).
	 */
	public static function check( $password, $hash, $user_id = '' ): bool {
		$password = (string) $password;
		$hash     = (string) $hash;

		if ( strlen( $hash ) <= 32 ) {
			// A plain md5 hash from a very old WordPress, as core checks it.
			$check = hash_equals( $hash, md5( $password ) );
		} elseif ( str_starts_with( $hash, '$argon2' ) ) {
			$check = self::verify_argon2( $password, $hash );
		} elseif ( str_starts_with( $hash, '$wp' ) ) {
			$check = self::verify_wp_bcrypt( $password, $hash );
		} else {
			// phpass portable hashes, and bcrypt/crypt hashes through phpass's crypt() fallback.
			$check = strlen( $password ) <= self::MAX_PASSWORD_LENGTH && self::phpass()->CheckPassword( $password, $hash );
		}

		if ( $check && $user_id && self::needs_rehash( $hash ) ) {
			$user = get_userdata( (int) $user_id );
			// Only the account password is upgraded: application passwords are checked with
			// the user id too, and must not replace it.
			if ( $user && hash_equals( (string) $user->user_pass, $hash ) ) {
				wp_set_password( $password, (int) $user_id );
				$hash = (string) get_userdata( (int) $user_id )->user_pass;
			}
		}

		/** This filter is documented in wp-includes/pluggable.php */
		return (bool) apply_filters( 'check_password', $check, $password, $hash, $user_id );
	}

	/**
	 * Whether check() replaces this hash after a successful login (before 6.8): every kind but
	 * argon2id while argon2id can be written; otherwise only md5, as core does.
	 *
	 * @param string $hash Stored hash that matched.
	 */
	private static function needs_rehash( string $hash ): bool {
		if ( function_exists( 'wpf_bridge_hash_password' ) && self::column_holds( self::ARGON2ID_HASH_LENGTH ) ) {
			return ! str_starts_with( $hash, '$argon2id$' );
		}
		return strlen( $hash ) <= 32;
	}

	/**
	 * check_password filter before 6.8: lets core's wp_check_password() accept argon2 and
	 * `$wp$2y$` hashes when this plugin's replacement is not in use (setting off, or another
	 * plugin's replacement). 6.8+ checks both kinds itself, so it is not hooked there.
	 *
	 * @param bool       $check    Core's answer.
	 * @param string     $password Plain password.
	 * @param string     $hash     Stored hash.
	 * @param string|int $user_id  User id.
	 */
	public static function check_fallback( $check, $password, $hash, $user_id = '' ): bool {
		unset( $user_id );
		if ( $check || defined( 'WPF_BRIDGE_PLUGGABLE_CHECK' ) || ! is_string( $hash ) ) {
			return (bool) $check;
		}
		if ( str_starts_with( $hash, '$argon2' ) ) {
			return self::verify_argon2( (string) $password, $hash );
		}
		if ( str_starts_with( $hash, '$wp' ) ) {
			return self::verify_wp_bcrypt( (string) $password, $hash );
		}
		return false;
	}

	/**
	 * profile_update: after a password change to an argon2 hash, ends the user's other sessions.
	 *
	 * WordPress before 6.8 ties auth cookies to the password through characters 8 to 11 of the hash
	 * (`pass_frag`), so changing the password logs the user out everywhere. In an argon2id
	 * hash those characters are always "d$v=", so this does it explicitly instead, by
	 * destroying the session tokens the cookies must match.
	 *
	 * @param int     $user_id       User id.
	 * @param WP_User $old_user_data The user before the update.
	 */
	public static function end_sessions_after_update( $user_id, $old_user_data = null ): void {
		$user = get_userdata( (int) $user_id );
		if ( ! $user || ! $old_user_data instanceof WP_User || $old_user_data->user_pass === $user->user_pass ) {
			return;
		}
		self::end_sessions( $user );
	}

	/**
	 * after_password_reset: the same for a password reset (the user is logged out then).
	 *
	 * @param WP_User $user The user.
	 */
	public static function end_sessions_after_reset( $user ): void {
		if ( $user instanceof WP_User ) {
			self::end_sessions( get_userdata( $user->ID ) ?: $user );
		}
	}

	/**
	 * Destroys a user's sessions, keeping the current one when the user changed their own password.
	 *
	 * @param WP_User $user The user, with the new hash.
	 */
	private static function end_sessions( WP_User $user ): void {
		if ( ! str_starts_with( (string) $user->user_pass, '$argon2' ) ) {
			return; // Other hashes change pass_frag, and core's cookie check does the rest.
		}
		$sessions = WP_Session_Tokens::get_instance( $user->ID );
		if ( get_current_user_id() === (int) $user->ID && '' !== wp_get_session_token() ) {
			$sessions->destroy_others( wp_get_session_token() );
		} else {
			$sessions->destroy_all();
		}
	}

	/**
	 * Verifies an argon2 hash with the extension, or with PHP's password_verify without it.
	 *
	 * @param string $password Plain password.
	 * @param string $hash     `$argon2...` hash in PHC format.
	 */
	private static function verify_argon2( string $password, string $hash ): bool {
		if ( strlen( $password ) > self::MAX_PASSWORD_LENGTH ) {
			return false;
		}
		if ( function_exists( 'wpf_bridge_verify_password' ) ) {
			try {
				return (bool) wpf_bridge_verify_password( $password, $hash );
			} catch ( \Throwable $e ) {
				unset( $e );
				return false;
			}
		}
		return password_verify( $password, $hash );
	}

	/**
	 * Verifies WordPress 6.8's `$wp$2y$` hash: bcrypt over base64(HMAC-SHA384(password,
	 * "wp-sha384")), as 6.8's wp_check_password() does.
	 *
	 * @param string $password Plain password.
	 * @param string $hash     `$wp` followed by a bcrypt hash.
	 */
	private static function verify_wp_bcrypt( string $password, string $hash ): bool {
		if ( strlen( $password ) > self::MAX_PASSWORD_LENGTH ) {
			return false;
		}
		$prehashed = base64_encode( hash_hmac( 'sha384', $password, 'wp-sha384', true ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- the format of core's hash.
		return password_verify( $prehashed, substr( $hash, 3 ) );
	}

	/**
	 * Core's hasher (the same object core's pluggable functions use).
	 */
	private static function phpass(): PasswordHash {
		global $wp_hasher;
		if ( empty( $wp_hasher ) ) {
			require_once ABSPATH . WPINC . '/class-phpass.php';
			// By default, use the portable hash from phpass.
			$wp_hasher = new PasswordHash( 8, true ); // phpcs:ignore WordPress.WP.GlobalVariablesOverride -- core's own global, set as core does.
		}
		return $wp_hasher;
	}
}
