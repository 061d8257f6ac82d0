<?php
/**
 * Installation: the log and queue tables, the first access key, the stored schema versions.
 *
 * Runs on activation, and again from admin_init whenever the stored schema version differs
 * from the code's (after an update, or on a site of a network where the plugin was
 * network-activated).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Creates and upgrades what the plugin stores.
 */
final class WPF_Bridge_Installer {

	/** Option holding the log table's schema version. */
	public const DB_VERSION_OPTION = 'wpf_bridge_db_version';

	/**
	 * Activation hook.
	 *
	 * @param bool $network_wide Whether the plugin is being network-activated.
	 */
	public static function activate( $network_wide = false ): void {
		if ( is_multisite() && $network_wide ) {
			foreach ( get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) as $blog_id ) {
				switch_to_blog( (int) $blog_id );
				self::install();
				restore_current_blog();
			}
			return;
		}
		self::install();
	}

	/**
	 * plugins_loaded: installs when the stored schema version is not the code's, so a new
	 * schema is in place before the first webhook after an update, not only after a visit
	 * to wp-admin (one autoloaded option read).
	 */
	public static function maybe_upgrade(): void {
		if ( (int) get_option( self::DB_VERSION_OPTION, 0 ) !== WPF_Bridge_Log::SCHEMA_VERSION
			|| ! WPF_Bridge_Queue::is_current() ) {
			self::install();
		}
	}

	/**
	 * Creates the log and queue tables and, when there is none, an access key. Idempotent.
	 */
	public static function install(): void {
		WPF_Bridge_Log::create_table();
		WPF_Bridge_Queue::create_table();

		$settings = WPF_Bridge_Settings::stored();
		if ( '' === $settings['access_key'] && ! WPF_Bridge_Settings::overridden( 'access_key' ) ) {
			$settings['access_key'] = WPF_Bridge_Settings::generate_access_key();
		}
		WPF_Bridge_Settings::save( $settings );

		update_option( self::DB_VERSION_OPTION, WPF_Bridge_Log::SCHEMA_VERSION, true );
	}
}
