<?php
/**
 * Opt-in argon2id password hashing (setting `argon2_passwords`), on every WordPress version.
 *
 * WordPress 6.8 and later hash with password_hash() behind two filters, check every hash type
 * WordPress ever wrote (md5, phpass, bcrypt, their `$wp$2y$` prehashed bcrypt, and argon2
 * through password_verify) and rehash at login whatever wp_password_needs_rehash() says. There
 * the setting only asks core for PASSWORD_ARGON2ID (`wp_hash_password_algorithm`,
 * `wp_hash_password_options`): older hashes become argon2id at the next login, and turning the
 * setting off makes core rehash them back to its bcrypt.
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
	 * Hooks what the setting and the WordPress version need. Runs while plugins load (the
	 * pluggable functions must exist before wp-includes/pluggable.php is read).
	 */
	public static function register(): void {
		$enabled = WPF_Bridge_Settings::argon2_passwords_enabled();
		if ( self::core_has_algorithm_filters() ) {
			if ( $enabled && defined( 'PASSWORD_ARGON2ID' ) ) {
				add_filter( 'wp_hash_password_algorithm', array( __CLASS__, 'algorithm' ) );
				add_filter( 'wp_hash_password_options', array( __CLASS__, 'options' ), 10, 2 );
			}
			return;
		}
		if ( $enabled ) {
			require_once WPF_BRIDGE_PLUGIN_DIR . '/includes/pluggable-passwords.php';
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
		if ( self::core_has_algorithm_filters() ) {
			return defined( 'PASSWORD_ARGON2ID' ) ? null : __( 'Argon2id passwords are on, but this PHP was built without argon2 (PASSWORD_ARGON2ID), so WordPress keeps hashing with bcrypt.', 'wpf-bridge' );
		}
		if ( ! ( defined( 'WPF_BRIDGE_PLUGGABLE_HASH' ) && defined( 'WPF_BRIDGE_PLUGGABLE_CHECK' ) ) ) {
			return __( 'Argon2id passwords are on, but another plugin already replaces wp_hash_password() and wp_check_password(), so WPF Bridge\'s versions are not used.', 'wpf-bridge' );
		}
		return null;
	}

	/**
	 * wp_hash_password_algorithm (6.8+): argon2id.
	 *
	 * @param string|int $algorithm Core's choice (PASSWORD_BCRYPT).
	 */
	public static function algorithm( $algorithm ) {
		unset( $algorithm );
		return PASSWORD_ARGON2ID;
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
	 * wp_hash_password(): argon2id through the extension, or core's phpass when it cannot.
	 *
	 * @param string $password Plain password (trimmed, as core does).
	 */
	public static function hash( $password ): string {
		$password = trim( (string) $password );
		if ( function_exists( 'wpf_bridge_hash_password' ) ) {
			try {
				return (string) wpf_bridge_hash_password( $password );
			} catch ( \Throwable $e ) {
				// Fall back to phpass: a working login matters more than the hash type.
				unset( $e );
			}
		}
		return self::phpass()->HashPassword( $password );
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

		if ( $check && $user_id && ! str_starts_with( $hash, '$argon2id$' ) && function_exists( 'wpf_bridge_hash_password' ) ) {
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
