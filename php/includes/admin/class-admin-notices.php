<?php
/**
 * Admin notices: site-wide ones (extension missing or of another version, WP Fusion's access
 * key can be reused) and the one-shot "flash" notices the plugin's pages show after an action.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Notices shown in wp-admin.
 */
final class WPF_Bridge_Admin_Notices {

	/** Option set when the admin chose to keep WPF Bridge's own key instead of WP Fusion's. */
	public const WPF_KEY_DISMISSED_OPTION = 'wpf_bridge_wpf_key_notice_dismissed';

	/** Transient prefix (per user) for flash notices. */
	private const FLASH_TRANSIENT = 'wpf_bridge_notices_';

	/**
	 * admin_notices: the site-wide notices, for users who can manage options.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		self::render_extension_notice();
		self::render_wp_fusion_key_notice();
	}

	/**
	 * Queues a notice for the current user's next page view (after a redirect).
	 *
	 * @param string $type    success, error, warning or info.
	 * @param string $code    Stable identifier, used in the element id (wpf-bridge-notice-{code}).
	 * @param string $message Plain text; escaped when shown. Never a secret.
	 */
	public static function flash( string $type, string $code, string $message ): void {
		$key      = self::FLASH_TRANSIENT . get_current_user_id();
		$notices  = get_transient( $key );
		$notices  = is_array( $notices ) ? $notices : array();
		$notices[] = array( $type, $code, $message );
		set_transient( $key, $notices, 5 * MINUTE_IN_SECONDS );
	}

	/**
	 * Prints and forgets the current user's flash notices.
	 */
	public static function render_flash(): void {
		$key     = self::FLASH_TRANSIENT . get_current_user_id();
		$notices = get_transient( $key );
		if ( ! is_array( $notices ) ) {
			return;
		}
		delete_transient( $key );
		foreach ( $notices as $notice ) {
			if ( is_array( $notice ) && 3 === count( $notice ) ) {
				self::print_notice( (string) $notice[0], (string) $notice[1], (string) $notice[2] );
			}
		}
	}

	/**
	 * Prints one notice.
	 *
	 * @param string $type    success, error, warning or info.
	 * @param string $code    Identifier for the element id.
	 * @param string $message Plain text.
	 */
	public static function print_notice( string $type, string $code, string $message ): void {
		printf(
			'<div id="%1$s" class="notice notice-%2$s wpf-bridge-notice"><p>%3$s</p></div>',
			esc_attr( 'wpf-bridge-notice-' . $code ),
			esc_attr( $type ),
			esc_html( $message )
		);
	}

	/**
	 * The extension is missing, or is not the version this plugin was written for.
	 */
	private static function render_extension_notice(): void {
		if ( ! WPF_Bridge_Extension::loaded() ) {
			?>
			<div id="wpf-bridge-notice-extension-missing" class="notice notice-error">
				<p>
					<strong><?php esc_html_e( 'WPF Bridge: the wpf_bridge PHP extension is not loaded.', 'wpf-bridge' ); ?></strong>
					<?php esc_html_e( 'CRM webhooks are answered with HTTP 503 until it is (CRMs send them again later).', 'wpf-bridge' ); ?>
				</p>
				<?php $mismatch = WPF_Bridge_Extension::runtime_mismatch(); ?>
				<p id="wpf-bridge-install-command"><?php echo esc_html( $mismatch ?? WPF_Bridge_Extension::install_instruction() ); ?></p>
				<p>
					<a href="<?php echo esc_url( WPF_Bridge_Extension::readme_url() ); ?>"><?php esc_html_e( 'Installation instructions (README)', 'wpf-bridge' ); ?></a>
				</p>
			</div>
			<?php
			return;
		}
		if ( ! WPF_Bridge_Extension::version_matches() ) {
			$message = sprintf(
				/* translators: 1: extension version, 2: plugin version */
				__( 'WPF Bridge: the loaded wpf_bridge extension is version %1$s but the plugin is version %2$s. Install the extension and the plugin from the same release; until then CRM webhooks are answered with HTTP 503.', 'wpf-bridge' ),
				(string) WPF_Bridge_Extension::version(),
				WPF_BRIDGE_PLUGIN_VERSION
			);
			self::print_notice( 'error', 'extension-version', $message );
			return;
		}
		$mismatch = WPF_Bridge_Extension::runtime_mismatch();
		if ( null !== $mismatch ) {
			self::print_notice( 'warning', 'extension-runtime', 'WPF Bridge: ' . $mismatch );
		}
	}

	/**
	 * WP Fusion's settings hold an access key that differs from ours: offer to reuse it.
	 */
	private static function render_wp_fusion_key_notice(): void {
		$wpf_key = WPF_Bridge_Settings::wp_fusion_access_key();
		if ( null === $wpf_key
			|| WPF_Bridge_Settings::overridden( 'access_key' )
			|| get_option( self::WPF_KEY_DISMISSED_OPTION )
			|| hash_equals( WPF_Bridge_Settings::stored()['access_key'], $wpf_key )
		) {
			return;
		}
		$action = WPF_Bridge_Settings_Page::url();
		?>
		<div id="wpf-bridge-notice-wp-fusion-key" class="notice notice-info">
			<p>
				<strong><?php esc_html_e( 'WPF Bridge: WP Fusion settings found.', 'wpf-bridge' ); ?></strong>
				<?php esc_html_e( 'Your CRM automations call webhook URLs that carry WP Fusion\'s access key. Use the same key in WPF Bridge so they keep working without changes, or keep WPF Bridge\'s new key and update the URLs in your CRM.', 'wpf-bridge' ); ?>
			</p>
			<p>
				<button type="submit" form="wpf-bridge-reuse-wpf-key-form" class="button button-primary" id="wpf-bridge-reuse-wpf-key"><?php esc_html_e( 'Use WP Fusion\'s access key', 'wpf-bridge' ); ?></button>
				<button type="submit" form="wpf-bridge-keep-own-key-form" class="button" id="wpf-bridge-keep-own-key"><?php esc_html_e( 'Keep WPF Bridge\'s key', 'wpf-bridge' ); ?></button>
			</p>
			<?php // The buttons' forms, empty but for their fields: the notice needs no style of its own on any admin page. ?>
			<form method="post" action="<?php echo esc_url( $action ); ?>" id="wpf-bridge-reuse-wpf-key-form">
				<input type="hidden" name="wpf_bridge_action" value="reuse_wpf_key">
				<?php wp_nonce_field( 'wpf_bridge_reuse_wpf_key', '_wpf_bridge_reuse_nonce', true ); ?>
			</form>
			<form method="post" action="<?php echo esc_url( $action ); ?>" id="wpf-bridge-keep-own-key-form">
				<input type="hidden" name="wpf_bridge_action" value="dismiss_wpf_key_notice">
				<?php wp_nonce_field( 'wpf_bridge_dismiss_wpf_key_notice', '_wpf_bridge_dismiss_nonce', true ); ?>
			</form>
		</div>
		<?php
	}
}
