<?php
/**
 * Opt-in argon2id password hashing (setting `argon2_passwords`).
 *
 * includes/pluggable-passwords.php replaces wp_hash_password() and wp_check_password() with
 * the two methods below when the setting is on. New hashes are argon2id, made by the extension
 * (wpf_bridge_hash_password, PHP's PHC format); `$argon2` hashes are checked by the extension;
 * older hashes (phpass, bcrypt, plain md5) are checked as WordPress 6.1 checks them and
 * rehashed to argon2id after a successful login. The `check_password` filter keeps working.
 *
 * check_argon2_fallback() is hooked whether or not the setting is on, so users whose password
 * was hashed with argon2id can still log in after the setting is turned off or the extension
 * is removed (PHP's password_verify reads the same format).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Password hashing for the pluggable functions.
 */
final class WPF_Bridge_Passwords {

	/** WordPress's phpass refuses longer passwords; the same limit applies to every hash type. */
	private const MAX_PASSWORD_LENGTH = 4096;

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
	 * wp_check_password(): checks any hash WordPress or this plugin wrote, upgrades old ones.
	 *
	 * @param string     $password Plain password.
	 * @param string     $hash     Stored hash.
	 * @param string|int $user_id  User id, when the hash is that user's password (may be empty).
	 */
	public static function check( $password, $hash, $user_id = '' ): bool {
		$password = (string) $password;
		$hash     = (string) $hash;

		if ( str_starts_with( $hash, '$argon2' ) ) {
			$check = self::verify_argon2( $password, $hash );
		} elseif ( strlen( $hash ) <= 32 ) {
			// A plain md5 hash from a very old WordPress, as core checks it.
			$check = hash_equals( $hash, md5( $password ) );
		} else {
			// phpass portable hashes, and bcrypt/crypt hashes through phpass's crypt() fallback.
			$check = strlen( $password ) <= self::MAX_PASSWORD_LENGTH && self::phpass()->CheckPassword( $password, $hash );
		}

		if ( $check && $user_id && ! str_starts_with( $hash, '$argon2' ) && function_exists( 'wpf_bridge_hash_password' ) ) {
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
	 * check_password filter: lets core's wp_check_password() accept `$argon2` hashes when
	 * this plugin's replacement is not in use (setting off, or extension removed).
	 *
	 * @param bool       $check    Core's answer.
	 * @param string     $password Plain password.
	 * @param string     $hash     Stored hash.
	 * @param string|int $user_id  User id.
	 */
	public static function check_argon2_fallback( $check, $password, $hash, $user_id = '' ): bool {
		unset( $user_id );
		if ( $check || defined( 'WPF_BRIDGE_PLUGGABLE_CHECK' ) || ! is_string( $hash ) || ! str_starts_with( $hash, '$argon2' ) ) {
			return (bool) $check;
		}
		return self::verify_argon2( (string) $password, $hash );
	}

	/**
	 * profile_update: after a password change to an argon2 hash, ends the user's other sessions.
	 *
	 * WordPress 6.1 ties auth cookies to the password through characters 8 to 11 of the hash
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
