<?php
/**
 * The must-use loader: `wp-content/mu-plugins/wpf-bridge-loader.php`, written on activation
 * and removed on deactivation and uninstall.
 *
 * Must-use plugins load before the other plugins and the theme. For a request carrying
 * wpf_action, and only while WPF Bridge is active on the site, the loader includes this
 * plugin's main file, whose WPF_Bridge_Endpoint::accept_early() answers a background webhook
 * there, with only the options and $wpdb loaded. WordPress's own include of the plugin later
 * is then a no-op (include_once). Without the loader (mu-plugins not writable), the same
 * accept runs when the plugin itself loads; Site Health says so (problem()).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Installs and removes the must-use loader.
 */
final class WPF_Bridge_Loader {

	/** The loader's file name in the must-use plugins folder. */
	public const FILE = 'wpf-bridge-loader.php';

	/** Marks a file as ours, so remove() never deletes someone else's file of that name. */
	private const MARKER = '@wpf-bridge-loader';

	/**
	 * The loader's path.
	 */
	public static function path(): string {
		return WPMU_PLUGIN_DIR . '/' . self::FILE;
	}

	/**
	 * The loader's source for this install: the plugin's basename is written into it.
	 */
	public static function source(): string {
		$plugin = var_export( plugin_basename( WPF_BRIDGE_PLUGIN_FILE ), true ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions -- writes a PHP string literal.
		$marker = self::MARKER;
		return <<<PHP
<?php
/**
 * Plugin Name: WPF Bridge webhook loader
 * Description: Lets CRM webhooks be answered before the other plugins and the theme load. Written by the WPF Bridge plugin on activation and removed on deactivation; it only acts on requests carrying wpf_action, and only while WPF Bridge is active.
 *
 * {$marker}
 */

defined( 'ABSPATH' ) || exit;

// phpcs:ignore WordPress.Security.NonceVerification -- routing only; the plugin authenticates.
if ( isset( \$_GET['wpf_action'] ) || isset( \$_POST['wpf_action'] ) ) {
	( static function ( string \$plugin ): void {
		\$active = in_array( \$plugin, (array) get_option( 'active_plugins', array() ), true )
			|| ( is_multisite() && isset( ( (array) get_site_option( 'active_sitewide_plugins', array() ) )[ \$plugin ] ) );
		\$file   = WP_PLUGIN_DIR . '/' . \$plugin;
		if ( \$active && is_file( \$file ) ) {
			wp_register_plugin_realpath( \$file );
			require_once \$file;
		}
	} )( {$plugin} );
}

PHP;
	}

	/**
	 * Writes the loader (through a temporary file and a rename, so no request ever includes
	 * half of it). Returns whether it is in place.
	 */
	public static function install(): bool {
		if ( ! wp_mkdir_p( WPMU_PLUGIN_DIR ) || ! wp_is_writable( WPMU_PLUGIN_DIR ) ) {
			return false;
		}
		$temporary = self::path() . '.' . wp_generate_password( 8, false ) . '.tmp';
		// phpcs:disable WordPress.WP.AlternativeFunctions -- one small file, written atomically.
		if ( false === @file_put_contents( $temporary, self::source() ) || ! @rename( $temporary, self::path() ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors -- the result is checked.
			@unlink( $temporary ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
			return false;
		}
		// phpcs:enable
		return self::installed();
	}

	/**
	 * Removes the loader if the file there is ours.
	 */
	public static function remove(): void {
		$path = self::path();
		if ( is_file( $path ) && str_contains( (string) file_get_contents( $path ), self::MARKER ) ) { // phpcs:ignore WordPress.WP.AlternativeFunctions -- a local file.
			wp_delete_file( $path );
		}
	}

	/**
	 * Whether the loader for this install is in place.
	 */
	public static function installed(): bool {
		$path = self::path();
		return is_file( $path ) && file_get_contents( $path ) === self::source(); // phpcs:ignore WordPress.WP.AlternativeFunctions -- a local file.
	}

	/**
	 * Why the loader is missing, for Site Health; null when it is in place.
	 */
	public static function problem(): ?string {
		if ( self::installed() ) {
			return null;
		}
		return sprintf(
			/* translators: %s: the must-use plugins folder */
			__( 'The webhook loader could not be written to %s (not writable?). Webhooks are still accepted, but only after every other plugin has loaded, which makes each one slower to answer. Make the folder writable and deactivate and reactivate WPF Bridge.', 'wpf-bridge' ),
			WPMU_PLUGIN_DIR
		);
	}
}
