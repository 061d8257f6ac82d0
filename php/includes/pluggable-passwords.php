<?php
/**
 * Pluggable password functions for the opt-in argon2id hashing (setting `argon2_passwords`).
 *
 * Included from wpf-bridge.php while plugins load, before wp-includes/pluggable.php, and only
 * when the setting is on. A function another plugin already defined is left alone (Site
 * Health reports it). The work is in WPF_Bridge_Passwords.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

if ( ! function_exists( 'wp_hash_password' ) ) :
	define( 'WPF_BRIDGE_PLUGGABLE_HASH', true );

	/**
	 * Hashes a password: argon2id through the wpf_bridge extension, phpass without it.
	 *
	 * @param string $password Plain text password.
	 * @return string The hash.
	 */
	function wp_hash_password( $password ) {
		return WPF_Bridge_Passwords::hash( $password );
	}
endif;

if ( ! function_exists( 'wp_check_password' ) ) :
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
