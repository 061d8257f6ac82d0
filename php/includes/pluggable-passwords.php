<?php
/**
 * Pluggable password functions for the opt-in argon2id hashing (setting `argon2_passwords`).
 *
 * Included from wpf-bridge.php while plugins load, before wp-includes/pluggable.php, and only
 * when the setting is on. wp_hash_password() is replaced on every version: core 6.8's trims the
 * password only for bcrypt, so through its algorithm filter alone a password set with leading or
 * trailing whitespace would never log in (wp_authenticate() trims what the user types).
 * wp_check_password() is replaced only before 6.8, whose core checks md5 and phpass alone. A
 * function another plugin already defined is left alone (Site Health reports it). The work is
 * in WPF_Bridge_Passwords.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

if ( ! function_exists( 'wp_hash_password' ) ) :
	define( 'WPF_BRIDGE_PLUGGABLE_HASH', true );

	/**
	 * Hashes a password as core does, trimmed and limited as core's bcrypt (6.8+) or phpass
	 * (before) hash it, with argon2id where the users table can hold it.
	 *
	 * @param string $password Plain text password.
	 * @return string The hash, or '*' for a password longer than core accepts.
	 */
	function wp_hash_password( $password ) {
		return WPF_Bridge_Passwords::hash( $password );
	}
endif;

if ( ! WPF_Bridge_Passwords::core_has_algorithm_filters() && ! function_exists( 'wp_check_password' ) ) :
	define( 'WPF_BRIDGE_PLUGGABLE_CHECK', true );

	/**
	 * Checks a password against an argon2id, phpass, bcrypt or md5 hash, upgrading the
	 * user's old hash to argon2id after a successful check. Runs the check_password filter.
	 *
	 * @param string     $password Plain text password.
	 * @param string     $hash     Hash to check against.
	 * @param string|int $user_id  Optional user id.
	 * @return bool Whether they match.
	 */
	function wp_check_password( $password, $hash, $user_id = '' ) {
		return WPF_Bridge_Passwords::check( $password, $hash, $user_id );
	}
endif;
