<?php
/**
 * Installation: the log and queue tables, the first access key, the stored schema versions,
 * the must-use loader and the queue's minute tick.
 *
 * Runs on activation, and again from plugins_loaded whenever a stored version differs from
 * the code's (after an update, or on a site of a network where the plugin was
 * network-activated). Deactivation removes the loader and the tick; uninstall.php removes
 * the rest.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Creates and upgrades what the plugin stores.
 */
final class WPF_Bridge_Installer {

	/** Option holding the plugin version whose must-use loader was last installed. */
	public const LOADER_VERSION_OPTION = 'wpf_bridge_loader_version';

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
	 * Deactivation hook: the loader and the minute tick go; the data stays. On a network the
	 * loader serves every site, so deactivating on one site keeps it (it checks, per site,
	 * that the plugin is active).
	 *
	 * @param bool $network_wide Whether the plugin is being network-deactivated.
	 */
	public static function deactivate( $network_wide = false ): void {
		if ( ! is_multisite() || $network_wide ) {
			WPF_Bridge_Loader::remove();
		}
		WPF_Bridge_Worker::unschedule();
		delete_option( self::LOADER_VERSION_OPTION );
	}

	/**
	 * Whether the stored schema versions and loader version are the code's (autoloaded
	 * options only, no query): the early accept needs the current tables.
	 */
	public static function is_current(): bool {
		return WPF_Bridge_Log::is_current()
			&& WPF_Bridge_Queue_Schema::is_current()
			&& get_option( self::LOADER_VERSION_OPTION ) === WPF_BRIDGE_PLUGIN_VERSION;
	}

	/**
	 * plugins_loaded: installs when a stored version is not the code's, so a new schema is in
	 * place before the first webhook after an update, not only after a visit to wp-admin; and
	 * keeps the minute tick scheduled (one autoloaded option read each).
	 */
	public static function maybe_upgrade(): void {
		if ( ! self::is_current() ) {
			self::install();
		}
		WPF_Bridge_Worker::schedule();
	}

	/**
	 * Creates the log and queue tables and, when there is none, an access key; writes the
	 * must-use loader; schedules the minute tick. Idempotent.
	 */
	public static function install(): void {
		WPF_Bridge_Log::create_table();
		WPF_Bridge_Refusals::create_table();
		WPF_Bridge_Queue_Schema::create_table();

		$settings = WPF_Bridge_Settings::stored();
		if ( '' === $settings['access_key'] && ! WPF_Bridge_Settings::overridden( 'access_key' ) ) {
			$settings['access_key'] = WPF_Bridge_Settings::generate_access_key();
		}
		WPF_Bridge_Settings::save( $settings );

		// Tried once per version: where mu-plugins is not writable, Site Health says so and
		// webhooks are accepted when the plugin loads.
		WPF_Bridge_Loader::install();
		update_option( self::LOADER_VERSION_OPTION, WPF_BRIDGE_PLUGIN_VERSION, true );
		WPF_Bridge_Worker::schedule();
	}
}
