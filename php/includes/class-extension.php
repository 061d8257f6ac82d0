<?php
/**
 * The wpf_bridge PHP extension as the plugin sees it: is it loaded, which version is it.
 *
 * Every other class asks here before calling an extension function, so a site without the
 * extension never hits a fatal "call to undefined function".
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Presence and version of the extension.
 */
final class WPF_Bridge_Extension {

	/** Where to read how to install the extension (the plugin's readme.txt, Installation). */
	public const README_PATH = 'readme.txt';

	/**
	 * Whether the extension's functions can be called.
	 */
	public static function loaded(): bool {
		return function_exists( 'wpf_bridge_handle_webhook' ) && function_exists( 'wpf_bridge_version' );
	}

	/**
	 * The loaded extension's version, or null when it is not loaded.
	 */
	public static function version(): ?string {
		if ( ! self::loaded() ) {
			return null;
		}
		try {
			return (string) wpf_bridge_version();
		} catch ( \Throwable $e ) {
			return null;
		}
	}

	/**
	 * Whether the loaded extension is the one this plugin was written for.
	 */
	public static function version_matches(): bool {
		return self::version() === WPF_BRIDGE_PLUGIN_VERSION;
	}

	/**
	 * The extension's rules for settings and fields (wpf_bridge_rules()): CRMs, username
	 * formats, core user fields and every setting with its default. Null when the extension
	 * is not loaded or is too old to have them. Asked once per request.
	 */
	public static function rules(): ?array {
		static $rules = false;
		if ( false === $rules ) {
			$rules = null;
			if ( self::loaded() && function_exists( 'wpf_bridge_rules' ) ) {
				try {
					$rules = wpf_bridge_rules();
				} catch ( \Throwable $e ) {
					$rules = null;
				}
			}
		}
		return $rules;
	}

	/**
	 * URL of the installation instructions shipped with the plugin.
	 */
	public static function readme_url(): string {
		return plugins_url( self::README_PATH, WPF_BRIDGE_PLUGIN_FILE );
	}
}
