<?php
/**
 * Settings > WPF Bridge (options-general.php?page=wpf-bridge).
 *
 * Shows the webhook URLs to copy into the CRM, regenerates the access key, edits the
 * settings (validated by the extension before anything is saved), and tests the CRM
 * connection. Every form posts back to this page with a nonce and is handled on the page's
 * load-* hook, before any output, then redirects (post/redirect/get) with a flash notice;
 * a rejected save is shown again with the submitted values instead.
 *
 * Secrets are write-only: the page never prints a stored secret back, only whether one is
 * stored or defined in wp-config.php. The access key does appear, inside the webhook URLs,
 * because those URLs are what the admin must paste into the CRM.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page.
 */
final class WPF_Bridge_Settings_Page {

	/** Menu slug: options-general.php?page=wpf-bridge. */
	public const SLUG = 'wpf-bridge';

	/** Capability needed for everything on the page. */
	public const CAPABILITY = 'manage_options';

	/** Blank field map rows offered after the existing ones. */
	private const BLANK_FIELD_MAP_ROWS = 3;

	/**
	 * Capabilities that make a role administrative, as the extension's role policy defines them
	 * (one list, in the extension). Only used to warn next to a role's checkbox.
	 *
	 * @return string[]
	 */
	private static function admin_capabilities(): array {
		return function_exists( 'wpf_bridge_admin_capabilities' ) ? wpf_bridge_admin_capabilities() : array();
	}

	/**
	 * Settings submitted by a save the extension rejected, shown again instead of the stored ones.
	 *
	 * @var array|null
	 */
	private static ?array $rejected_settings = null;

	/** The extension's message for the rejected save. */
	private static string $rejected_message = '';

	/** Whether the rejected save carried typed secrets (which are not shown again). */
	private static bool $rejected_had_secrets = false;

	/**
	 * admin_menu: adds the page and its load-* handler.
	 */
	public static function register(): void {
		$hook = add_options_page(
			__( 'WPF Bridge', 'wpf-bridge' ),
			__( 'WPF Bridge', 'wpf-bridge' ),
			self::CAPABILITY,
			self::SLUG,
			array( self::class, 'render' )
		);
		if ( $hook ) {
			add_action( 'load-' . $hook, array( self::class, 'handle_post' ) );
			add_action( 'load-' . $hook, array( self::class, 'enqueue' ) );
		}
	}

	/**
	 * The page's URL.
	 *
	 * @param array $args Extra query arguments.
	 */
	public static function url( array $args = array() ): string {
		return add_query_arg( array_merge( array( 'page' => self::SLUG ), $args ), admin_url( 'options-general.php' ) );
	}

	/**
	 * plugin_action_links_*: a "Settings" link on the Plugins screen.
	 *
	 * @param array $links Existing links.
	 */
	public static function action_links( $links ): array {
		$links   = (array) $links;
		$links[] = sprintf( '<a href="%s">%s</a>', esc_url( self::url() ), esc_html__( 'Settings', 'wpf-bridge' ) );
		return $links;
	}

	/**
	 * load-*: the copy buttons' script.
	 */
	public static function enqueue(): void {
		add_action(
			'admin_enqueue_scripts',
			static function (): void {
				wp_enqueue_script( 'wpf-bridge-admin', plugins_url( 'assets/admin.js', WPF_BRIDGE_PLUGIN_FILE ), array(), WPF_BRIDGE_PLUGIN_VERSION, true );
			}
		);
	}

	/**
	 * load-*: handles the page's forms (and the WP Fusion notice's, which post here too).
	 */
	public static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_POST['wpf_bridge_action'] ) || ! is_string( $_POST['wpf_bridge_action'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification -- each action checks its nonce below.
			return;
		}
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage these settings.', 'wpf-bridge' ), 403 );
		}

		$action = sanitize_key( wp_unslash( $_POST['wpf_bridge_action'] ) ); // phpcs:ignore WordPress.Security.NonceVerification -- checked per action below.
		switch ( $action ) {
			case 'save':
				check_admin_referer( 'wpf_bridge_save', '_wpf_bridge_save_nonce' );
				if ( ! self::save() ) {
					return; // Rejected: render() shows the submitted values and the message.
				}
				break;
			case 'regenerate_key':
				check_admin_referer( 'wpf_bridge_regenerate_key', '_wpf_bridge_regenerate_nonce' );
				self::regenerate_key();
				break;
			case 'test_connection':
				check_admin_referer( 'wpf_bridge_test_connection', '_wpf_bridge_test_nonce' );
				self::test_connection();
				break;
			case 'reuse_wpf_key':
				check_admin_referer( 'wpf_bridge_reuse_wpf_key', '_wpf_bridge_reuse_nonce' );
				self::reuse_wp_fusion_key();
				break;
			case 'dismiss_wpf_key_notice':
				check_admin_referer( 'wpf_bridge_dismiss_wpf_key_notice', '_wpf_bridge_dismiss_nonce' );
				update_option( WPF_Bridge_Admin_Notices::WPF_KEY_DISMISSED_OPTION, 1, false );
				break;
			default:
				return;
		}
		wp_safe_redirect( self::url() );
		exit;
	}

	/**
	 * Saves the submitted settings if the extension accepts them.
	 *
	 * @return bool False when rejected (nothing saved).
	 */
	private static function save(): bool {
		// phpcs:disable WordPress.Security.NonceVerification -- verified by handle_post().
		$input = isset( $_POST['wpf_bridge'] ) && is_array( $_POST['wpf_bridge'] ) ? wp_unslash( $_POST['wpf_bridge'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- sanitised in from_form().
		$clear = isset( $_POST['wpf_bridge_clear'] ) && is_array( $_POST['wpf_bridge_clear'] ) ? wp_unslash( $_POST['wpf_bridge_clear'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- only compared with empty().
		// phpcs:enable

		$settings = WPF_Bridge_Settings::from_form( $input, $clear, WPF_Bridge_Settings::stored() );

		// A setting the users table cannot carry out is refused, whether or not the extension is loaded.
		$refusal = WPF_Bridge_Passwords::refusal( $settings );
		if ( null !== $refusal ) {
			self::$rejected_settings    = $settings;
			self::$rejected_message     = $refusal;
			self::$rejected_had_secrets = self::typed_secrets( $input );
			return false;
		}

		if ( ! WPF_Bridge_Extension::loaded() ) {
			WPF_Bridge_Settings::save( $settings );
			WPF_Bridge_Admin_Notices::flash( 'warning', 'saved-unvalidated', __( 'Settings saved, but not validated: the wpf_bridge extension is not loaded.', 'wpf-bridge' ) );
			return true;
		}

		$error = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::with_constants( $settings ) );
		if ( null !== $error ) {
			self::$rejected_settings    = $settings;
			self::$rejected_message     = $error;
			self::$rejected_had_secrets = self::typed_secrets( $input );
			return false;
		}

		WPF_Bridge_Settings::save( $settings );
		WPF_Bridge_Admin_Notices::flash( 'success', 'saved', __( 'Settings saved.', 'wpf-bridge' ) );
		return true;
	}

	/**
	 * Whether the submitted form carried typed secrets (a refused save does not show them again).
	 *
	 * @param array $input The submitted settings.
	 */
	private static function typed_secrets( array $input ): bool {
		return (bool) array_filter(
			array_intersect_key( $input, WPF_Bridge_Settings::SECRET_CONSTANTS ),
			static fn( $value ): bool => is_string( $value ) && '' !== trim( $value )
		);
	}

	/**
	 * Replaces the access key with a new random one.
	 */
	private static function regenerate_key(): void {
		if ( WPF_Bridge_Settings::overridden( 'access_key' ) ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'key-constant', __( 'The access key is defined by WPF_BRIDGE_ACCESS_KEY in wp-config.php; change it there.', 'wpf-bridge' ) );
			return;
		}
		WPF_Bridge_Settings::set_access_key( WPF_Bridge_Settings::generate_access_key() );
		WPF_Bridge_Admin_Notices::flash( 'success', 'key-regenerated', __( 'New access key generated. Update the webhook URLs in your CRM: the old key no longer works.', 'wpf-bridge' ) );
	}

	/**
	 * Asks the extension to call the CRM's API with the saved settings.
	 */
	private static function test_connection(): void {
		if ( ! function_exists( 'wpf_bridge_crm_test_connection' ) ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'connection-failed', __( 'Cannot test the connection: the wpf_bridge extension is not loaded.', 'wpf-bridge' ) );
			return;
		}
		try {
			$result  = wpf_bridge_crm_test_connection( WPF_Bridge_Settings::for_extension() );
			$ok      = is_array( $result ) && ! empty( $result['ok'] );
			$message = is_array( $result ) && isset( $result['message'] ) && is_scalar( $result['message'] ) ? (string) $result['message'] : '';
		} catch ( \Throwable $e ) {
			$ok = false;
			// The extension's messages never hold secrets; anything else is reported by class only.
			$message = $e instanceof \WpfBridge\Exception ? $e->getMessage() : get_class( $e );
		}
		if ( $ok ) {
			WPF_Bridge_Admin_Notices::flash( 'success', 'connection-ok', '' !== $message ? $message : __( 'Connection to the CRM works.', 'wpf-bridge' ) );
		} else {
			/* translators: %s: the reason given by the extension */
			WPF_Bridge_Admin_Notices::flash( 'error', 'connection-failed', sprintf( __( 'Connection to the CRM failed: %s', 'wpf-bridge' ), $message ) );
		}
	}

	/**
	 * Copies WP Fusion's access key, so existing CRM automations keep working.
	 */
	private static function reuse_wp_fusion_key(): void {
		$key = WPF_Bridge_Settings::wp_fusion_access_key();
		if ( null === $key || WPF_Bridge_Settings::overridden( 'access_key' ) ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'wpf-key-unavailable', __( 'There is no WP Fusion access key to reuse, or the key is defined in wp-config.php.', 'wpf-bridge' ) );
			return;
		}
		$settings               = WPF_Bridge_Settings::stored();
		$settings['access_key'] = $key;
		if ( WPF_Bridge_Extension::loaded() ) {
			$error = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::with_constants( $settings ) );
			if ( null !== $error ) {
				/* translators: %s: the extension's validation message */
				WPF_Bridge_Admin_Notices::flash( 'error', 'wpf-key-invalid', sprintf( __( 'WP Fusion\'s access key cannot be used: %s', 'wpf-bridge' ), $error ) );
				return;
			}
		}
		WPF_Bridge_Settings::save( $settings );
		WPF_Bridge_Admin_Notices::flash( 'success', 'wpf-key-reused', __( 'WPF Bridge now uses WP Fusion\'s access key: the webhook URLs in your CRM keep working.', 'wpf-bridge' ) );
	}

	/**
	 * Renders the page.
	 */
	public static function render(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$stored   = WPF_Bridge_Settings::stored();
		$settings = self::$rejected_settings ?? $stored;
		?>
		<div class="wrap" id="wpf-bridge-settings">
			<h1><?php esc_html_e( 'WPF Bridge', 'wpf-bridge' ); ?></h1>
			<p>
				<?php esc_html_e( 'Answers CRM webhooks (Mautic, User.com) with WP Fusion\'s URL contract.', 'wpf-bridge' ); ?>
				<a href="<?php echo esc_url( WPF_Bridge_Webhooks_Page::url() ); ?>" id="wpf-bridge-webhooks-link"><?php esc_html_e( 'See the webhooks', 'wpf-bridge' ); ?></a>
			</p>
			<?php
			WPF_Bridge_Admin_Notices::render_flash();
			if ( null !== self::$rejected_settings ) {
				/* translators: %s: the extension's validation message, naming the setting */
				$message = sprintf( __( 'Settings not saved: %s', 'wpf-bridge' ), self::$rejected_message );
				if ( self::$rejected_had_secrets ) {
					$message .= ' ' . __( '(The secrets you typed are not shown again: type them once more.)', 'wpf-bridge' );
				}
				WPF_Bridge_Admin_Notices::print_notice( 'error', 'invalid-settings', $message );
			}
			self::render_status();
			self::render_webhook_urls();
			$rules = WPF_Bridge_Extension::rules();
			if ( $rules ) {
				self::render_settings_form( $settings, $stored, $rules );
			}
			?>
			<form method="post" action="<?php echo esc_url( self::url() ); ?>" id="wpf-bridge-regenerate-form">
				<input type="hidden" name="wpf_bridge_action" value="regenerate_key">
				<?php wp_nonce_field( 'wpf_bridge_regenerate_key', '_wpf_bridge_regenerate_nonce' ); ?>
			</form>
			<form method="post" action="<?php echo esc_url( self::url() ); ?>" id="wpf-bridge-test-connection-form">
				<input type="hidden" name="wpf_bridge_action" value="test_connection">
				<?php wp_nonce_field( 'wpf_bridge_test_connection', '_wpf_bridge_test_nonce' ); ?>
			</form>
		</div>
		<?php
	}

	/**
	 * Extension and settings status.
	 */
	private static function render_status(): void {
		$loaded  = WPF_Bridge_Extension::loaded();
		$version = WPF_Bridge_Extension::version();
		?>
		<h2><?php esc_html_e( 'Status', 'wpf-bridge' ); ?></h2>
		<table class="form-table" role="presentation">
			<tr>
				<th scope="row"><?php esc_html_e( 'Extension', 'wpf-bridge' ); ?></th>
				<td id="wpf-bridge-status-extension" data-loaded="<?php echo $loaded ? '1' : '0'; ?>">
					<?php
					if ( ! $loaded ) {
						esc_html_e( 'Not loaded: webhooks are answered with HTTP 503.', 'wpf-bridge' );
						echo ' <span id="wpf-bridge-status-install">' . esc_html( WPF_Bridge_Extension::runtime_mismatch() ?? WPF_Bridge_Extension::install_instruction() ) . '</span>';
						echo ' <a href="' . esc_url( WPF_Bridge_Extension::readme_url() ) . '">' . esc_html__( 'How to install it', 'wpf-bridge' ) . '</a>';
					} elseif ( WPF_Bridge_Extension::version_matches() ) {
						/* translators: %s: version */
						echo esc_html( sprintf( __( 'Loaded, version %s.', 'wpf-bridge' ), (string) $version ) );
					} else {
						/* translators: 1: extension version, 2: plugin version */
						echo esc_html( sprintf( __( 'Loaded, version %1$s, but this plugin is version %2$s: webhooks are answered with HTTP 503. Install both from the same release.', 'wpf-bridge' ), (string) $version, WPF_BRIDGE_PLUGIN_VERSION ) );
					}
					$runtime = $loaded ? WPF_Bridge_Extension::runtime_mismatch() : null;
					if ( null !== $runtime ) {
						echo ' <span id="wpf-bridge-status-runtime">' . esc_html( $runtime ) . '</span>';
					}
					?>
				</td>
			</tr>
			<?php if ( $loaded ) : ?>
				<?php $error = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::effective() ); ?>
				<tr>
					<th scope="row"><?php esc_html_e( 'Saved settings', 'wpf-bridge' ); ?></th>
					<td id="wpf-bridge-status-settings" data-valid="<?php echo null === $error ? '1' : '0'; ?>">
						<?php echo esc_html( null === $error ? __( 'Valid.', 'wpf-bridge' ) : $error ); ?>
					</td>
				</tr>
			<?php endif; ?>
			<?php if ( class_exists( 'WP_Fusion' ) ) : ?>
				<tr>
					<th scope="row"><?php esc_html_e( 'WP Fusion', 'wpf-bridge' ); ?></th>
					<td id="wpf-bridge-status-wp-fusion">
						<?php esc_html_e( 'WP Fusion is active too. WPF Bridge answers every wpf_action request first, so WP Fusion\'s own webhook handler never runs.', 'wpf-bridge' ); ?>
					</td>
				</tr>
			<?php endif; ?>
		</table>
		<?php
	}

	/**
	 * The webhook URLs, ready to copy, and the regenerate button.
	 */
	private static function render_webhook_urls(): void {
		$key   = WPF_Bridge_Settings::effective()['access_key'];
		$rows = array(
			'update'       => array( 'update', array( 'wpf_action' => 'update' ), __( 'Update: loads the contact\'s fields and tags into the matching user.', 'wpf-bridge' ) ),
			'update-tags'  => array( 'update_tags', array( 'wpf_action' => 'update_tags' ), __( 'Update tags: loads only the contact\'s tags.', 'wpf-bridge' ) ),
			'add'          => array( 'add', array( 'wpf_action' => 'add' ), __( 'Add: creates a user for the contact (or links an existing one).', 'wpf-bridge' ) ),
			'add-customer' => array(
				'add, role=customer, send_notification=true',
				array(
					'wpf_action'        => 'add',
					'role'              => 'customer',
					'send_notification' => 'true',
				),
				__( 'Add with a role and the welcome email. Change the role as needed: it must be one of the allowed roles below.', 'wpf-bridge' ),
			),
			'test'         => array( 'test', array( 'wpf_action' => 'test' ), __( 'Test: checks the URL and the access key, changes nothing.', 'wpf-bridge' ) ),
		);
		?>
		<h2 id="wpf-bridge-webhooks"><?php esc_html_e( 'Webhook URLs', 'wpf-bridge' ); ?></h2>
		<?php if ( '' === $key ) : ?>
			<?php WPF_Bridge_Admin_Notices::print_notice( 'warning', 'no-access-key', __( 'There is no access key yet: generate one.', 'wpf-bridge' ) ); ?>
		<?php else : ?>
			<p><?php esc_html_e( 'Paste these into your CRM\'s webhook or automation. They contain the access key: treat them like a password.', 'wpf-bridge' ); ?></p>
			<table class="form-table" role="presentation" id="wpf-bridge-webhook-urls">
				<?php foreach ( $rows as $id => list( $label, $args, $description ) ) : ?>
					<?php $url = self::webhook_url( $key, $args ); ?>
					<tr>
						<th scope="row"><label for="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>"><code><?php echo esc_html( $label ); ?></code></label></th>
						<td>
							<input type="text" readonly class="large-text code wpf-bridge-url" id="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>" value="<?php echo esc_attr( $url ); ?>" onfocus="this.select();">
							<button type="button" class="button wpf-bridge-copy" data-target="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>"><?php esc_html_e( 'Copy', 'wpf-bridge' ); ?></button>
							<p class="description"><?php echo esc_html( $description ); ?></p>
						</td>
					</tr>
				<?php endforeach; ?>
			</table>
		<?php endif; ?>
		<p>
			<?php if ( WPF_Bridge_Settings::overridden( 'access_key' ) ) : ?>
				<span id="wpf-bridge-access-key-status"><?php esc_html_e( 'The access key is defined by WPF_BRIDGE_ACCESS_KEY in wp-config.php.', 'wpf-bridge' ); ?></span>
			<?php else : ?>
				<button type="submit" form="wpf-bridge-regenerate-form" class="button" id="wpf-bridge-regenerate-key"><?php esc_html_e( 'Generate a new access key', 'wpf-bridge' ); ?></button>
				<span class="description"><?php esc_html_e( 'The old key stops working at once: update every URL in your CRM.', 'wpf-bridge' ); ?></span>
			<?php endif; ?>
		</p>
		<?php
	}

	/**
	 * A webhook URL: the home URL with wpf_action, access_key and any further arguments.
	 *
	 * @param string $key  Access key.
	 * @param array  $args Query arguments, wpf_action first.
	 */
	private static function webhook_url( string $key, array $args ): string {
		$query = array( 'wpf_action' => $args['wpf_action'], 'access_key' => $key ) + $args;
		return add_query_arg( array_map( 'rawurlencode', $query ), home_url( '/' ) );
	}

	/**
	 * The settings form.
	 *
	 * @param array $settings Values to show (stored, or a rejected submission).
	 * @param array $stored   Stored settings (for the secrets' "stored" marks).
	 */
	private static function render_settings_form( array $settings, array $stored, array $rules ): void {
		$crms = (array) ( $rules['crms'] ?? array() );
		$url  = static function ( string $slug ) use ( $crms ): string {
			/* translators: %s: an example URL */
			return sprintf( __( 'For example %s', 'wpf-bridge' ), (string) ( $crms[ $slug ]['url_example'] ?? '' ) );
		};
		?>
		<form method="post" action="<?php echo esc_url( self::url() ); ?>" id="wpf-bridge-settings-form" autocomplete="off">
			<input type="hidden" name="wpf_bridge_action" value="save">
			<?php wp_nonce_field( 'wpf_bridge_save', '_wpf_bridge_save_nonce' ); ?>

			<h2><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="wpf-bridge-crm"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></label></th>
					<td>
						<select name="wpf_bridge[crm]" id="wpf-bridge-crm">
							<?php foreach ( $crms as $slug => $crm ) : ?>
								<option value="<?php echo esc_attr( $slug ); ?>" <?php selected( $settings['crm'], $slug ); ?>><?php echo esc_html( (string) ( $crm['name'] ?? $slug ) ); ?></option>
							<?php endforeach; ?>
						</select>
						<p class="description"><?php esc_html_e( 'Contact ids are stored in the user meta {crm}_contact_id and tags in {crm}_tags, as WP Fusion does.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
			</table>

			<h3><?php esc_html_e( 'Mautic', 'wpf-bridge' ); ?></h3>
			<table class="form-table" role="presentation">
				<?php self::text_field( 'mautic_url', __( 'Mautic URL', 'wpf-bridge' ), $settings, 'text', $url( 'mautic' ) ); ?>
				<?php self::text_field( 'mautic_username', __( 'API username', 'wpf-bridge' ), $settings, 'text', __( 'For basic authentication (enable the API and HTTP basic auth in Mautic\'s configuration).', 'wpf-bridge' ) ); ?>
				<?php self::secret_field( 'mautic_password', __( 'API password', 'wpf-bridge' ), $stored ); ?>
				<?php self::secret_field( 'mautic_token', __( 'OAuth2 access token', 'wpf-bridge' ), $stored, __( 'Used instead of the username and password when set.', 'wpf-bridge' ) ); ?>
			</table>

			<h3><?php esc_html_e( 'User.com', 'wpf-bridge' ); ?></h3>
			<table class="form-table" role="presentation">
				<?php self::text_field( 'userengage_url', __( 'User.com API URL', 'wpf-bridge' ), $settings, 'text', $url( 'userengage' ) . ' ' . __( '(your app\'s address followed by /api/public/)', 'wpf-bridge' ) ); ?>
				<?php self::secret_field( 'userengage_api_key', __( 'API key', 'wpf-bridge' ), $stored ); ?>
			</table>

			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><?php esc_html_e( 'Connection', 'wpf-bridge' ); ?></th>
					<td>
						<button type="submit" form="wpf-bridge-test-connection-form" class="button" id="wpf-bridge-test-connection"><?php esc_html_e( 'Test connection', 'wpf-bridge' ); ?></button>
						<p class="description"><?php esc_html_e( 'Tests the saved settings: save your changes first.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
			</table>

			<h2><?php esc_html_e( 'Webhook security', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php self::secret_field( 'webhook_secret', __( 'Webhook secret', 'wpf-bridge' ), $stored, __( 'The "Secret" of the Mautic webhook. When set, a request that carries a JSON payload must also carry a valid Webhook-Signature header; calls with only URL parameters (campaign "Send a webhook" actions) load the contact from the Mautic API instead.', 'wpf-bridge' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Field map', 'wpf-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Which CRM field fills which WordPress field. A WordPress field is a user field (suggested in the list) or any user meta key. Leave a row empty to remove it.', 'wpf-bridge' ); ?></p>
			<?php $protected = (array) ( $rules['protected_meta_keys'] ?? array() ); ?>
			<p id="wpf-bridge-protected-meta-keys">
				<?php
				printf(
					/* translators: 1: key endings, 2: exact keys, 3: key beginnings, 4: the CRMs' link and tag keys */
					esc_html__( 'Meta keys that hold roles, capabilities or login state are refused: any key ending in %1$s; %2$s; keys starting with %3$s; and the CRM link and tag keys (%4$s).', 'wpf-bridge' ),
					esc_html( implode( ', ', (array) ( $protected['suffixes'] ?? array() ) ) ),
					esc_html( implode( ', ', (array) ( $protected['keys'] ?? array() ) ) ),
					esc_html( implode( ', ', (array) ( $protected['prefixes'] ?? array() ) ) ),
					esc_html( implode( ', ', array_merge( array_column( $crms, 'contact_id_meta_key' ), array_column( $crms, 'tags_meta_key' ) ) ) )
				);
				?>
			</p>
			<?php self::render_field_map( $settings['field_map'] ); ?>

			<h2><?php esc_html_e( 'Imported users', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php self::render_role_fields( $settings ); ?>
				<tr>
					<th scope="row"><label for="wpf-bridge-username-format"><?php esc_html_e( 'Username format', 'wpf-bridge' ); ?></label></th>
					<td>
						<select name="wpf_bridge[username_format]" id="wpf-bridge-username-format">
							<?php foreach ( (array) ( $rules['username_formats'] ?? array() ) as $value => $label ) : ?>
								<option value="<?php echo esc_attr( $value ); ?>" <?php selected( $settings['username_format'], $value ); ?>><?php echo esc_html( $label ); ?></option>
							<?php endforeach; ?>
						</select>
						<p class="description"><?php esc_html_e( 'Used when the CRM gives no username.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<?php self::checkbox_field( 'send_welcome_email', __( 'Welcome email', 'wpf-bridge' ), __( 'Send WordPress\'s new-user email (with a link to set the password) to every imported user, even without send_notification=true in the URL.', 'wpf-bridge' ), $settings ); ?>
				<?php self::checkbox_field( 'return_password', __( 'Return password', 'wpf-bridge' ), __( 'Write the generated password of a new user back to the CRM field below. The CRM then holds it in plain text: prefer the welcome email.', 'wpf-bridge' ), $settings ); ?>
				<?php self::text_field( 'return_password_field', __( 'Password field', 'wpf-bridge' ), $settings, 'text', __( 'The CRM field alias that receives the password.', 'wpf-bridge' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Passwords', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php
				$argon2_text = sprintf(
					/* translators: %d: length of an argon2id hash */
					__( 'Hash WordPress passwords with argon2id instead of bcrypt (WordPress 6.8 and later) or phpass (earlier versions). Every password that logs in now keeps logging in (trimmed and limited to 4,096 bytes as WordPress does), and is rehashed at the next login. Passwords hashed this way keep working if you turn this off again. Needs a users table whose user_pass column holds %d characters (WordPress 4.4 and later create it with 255).', 'wpf-bridge' ),
					WPF_Bridge_Passwords::ARGON2ID_HASH_LENGTH
				);
				self::checkbox_field( 'argon2_passwords', __( 'Argon2id hashes', 'wpf-bridge' ), $argon2_text, $settings );
				?>
			</table>

			<h2><?php esc_html_e( 'Limits per webhook', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php self::text_field( 'max_events', __( 'Most contact events', 'wpf-bridge' ), $settings, 'number', __( 'A request with more contact events is refused whole (413 too_many_events) and nothing is applied. Mautic sends at most 10 per delivery.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'time_budget', __( 'Time budget (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'A batch still running after this long stops between two events and answers 503 time_budget_exceeded with what was done, so the CRM sends the rest again.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'max_body_bytes', __( 'Largest webhook body (bytes)', 'wpf-bridge' ), $settings, 'number', __( 'Bigger requests are refused with 413 body_too_large. Between 1024 and 67108864; Mautic\'s largest batch (10 contacts) is about 70 KB.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'crm_timeout', __( 'CRM API timeout (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'How long each call to the CRM\'s API may take, between 1 and 60. CRMs give a webhook 10 to 30 seconds in all.', 'wpf-bridge' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Queue', 'wpf-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Every contact event a webhook brings is stored first, then applied; the webhooks page (Tools) shows each one.', 'wpf-bridge' ); ?></p>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><?php esc_html_e( 'Processing', 'wpf-bridge' ); ?></th>
					<td>
						<fieldset id="wpf-bridge-processing">
							<legend class="screen-reader-text"><?php esc_html_e( 'Processing', 'wpf-bridge' ); ?></legend>
							<?php foreach ( (array) ( $rules['processing_modes'] ?? array() ) as $value => $label ) : ?>
								<?php $id = 'wpf-bridge-processing-' . $value; ?>
								<label for="<?php echo esc_attr( $id ); ?>">
									<input type="radio" name="wpf_bridge[processing]" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) $value ); ?>" <?php checked( (string) $settings['processing'], (string) $value ); ?>>
									<?php echo esc_html( (string) $label ); ?>
								</label><br>
							<?php endforeach; ?>
						</fieldset>
						<p class="description"><?php esc_html_e( 'A webhook URL with async=false is applied in the request whatever this says; async=true is applied in the background.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-retry-delays"><?php esc_html_e( 'Retry delays (seconds)', 'wpf-bridge' ); ?></label></th>
					<td>
						<input type="text" class="regular-text code" name="wpf_bridge[retry_delays]" id="wpf-bridge-retry-delays" value="<?php echo esc_attr( implode( ', ', array_map( 'strval', (array) $settings['retry_delays'] ) ) ); ?>">
						<p class="description"><?php esc_html_e( 'Comma-separated: how long to wait before each retry of an event that failed for a reason that can pass (the CRM was down or rate-limited, the contact was busy, a site error). After the last one the event is failed and waits on the webhooks page. 1 to 20 delays of 1 to 604800 seconds; the default is 30, 120, 600, 3600, 21600, 86400.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<?php self::text_field( 'claim_timeout', __( 'Claim timeout (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'How long a worker holds the events it is applying. If it dies (a PHP process killed or out of time), another takes them after this. Between 30 and 86400; longer than an apply ever takes.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'keep_done_days', __( 'Keep done and failed events (days)', 'wpf-bridge' ), $settings, 'number', __( 'Applied and failed events stay on the webhooks page this long after they were settled, then are deleted (waiting events are never deleted without you). Between 1 and 3650.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'max_waiting_events', __( 'Most waiting events', 'wpf-bridge' ), $settings, 'number', __( 'Events waiting to be applied (pending, in progress, retrying) at most. Past it, new webhooks are answered 503 queue_full with Retry-After and nothing is stored; the CRM sends them again. Default 100000.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'max_waiting_bytes', __( 'Most waiting bytes', 'wpf-bridge' ), $settings, 'number', __( 'Bytes the waiting events may hold in the database at most (same answer past it). Default 536870912 (512 MiB); at least 1048576.', 'wpf-bridge' ) ); ?>
				<?php self::text_field( 'max_waiting_per_contact', __( 'Most waiting events per contact', 'wpf-bridge' ), $settings, 'number', __( 'Events waiting for one contact at most (same answer past it). Default 1000.', 'wpf-bridge' ) ); ?>
			</table>

			<?php submit_button( __( 'Save settings', 'wpf-bridge' ), 'primary', 'wpf-bridge-save' ); ?>
		</form>
		<datalist id="wpf-bridge-wp-fields">
			<?php foreach ( (array) ( $rules['core_user_fields'] ?? array() ) as $field ) : ?>
				<option value="<?php echo esc_attr( $field ); ?>"></option>
			<?php endforeach; ?>
		</datalist>
		<?php
	}

	/**
	 * The field map rows: existing entries, then blank rows.
	 *
	 * @param array $field_map CRM field alias => WordPress field.
	 */
	private static function render_field_map( array $field_map ): void {
		$rows = array();
		foreach ( $field_map as $crm_field => $wp_field ) {
			$rows[] = array( (string) $crm_field, (string) $wp_field );
		}
		for ( $i = 0; $i < self::BLANK_FIELD_MAP_ROWS; $i++ ) {
			$rows[] = array( '', '' );
		}
		?>
		<table class="widefat striped" id="wpf-bridge-field-map" style="max-width:48em">
			<thead>
				<tr>
					<th scope="col"><?php esc_html_e( 'CRM field alias', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'WordPress field', 'wpf-bridge' ); ?></th>
				</tr>
			</thead>
			<tbody>
				<?php foreach ( $rows as $i => list( $crm_field, $wp_field ) ) : ?>
					<tr>
						<td>
							<input type="text" class="regular-text" name="<?php echo esc_attr( "wpf_bridge[field_map][{$i}][crm]" ); ?>" id="<?php echo esc_attr( "wpf-bridge-field-map-{$i}-crm" ); ?>" value="<?php echo esc_attr( $crm_field ); ?>" aria-label="<?php esc_attr_e( 'CRM field alias', 'wpf-bridge' ); ?>">
						</td>
						<td>
							<input type="text" class="regular-text" list="wpf-bridge-wp-fields" name="<?php echo esc_attr( "wpf_bridge[field_map][{$i}][wp]" ); ?>" id="<?php echo esc_attr( "wpf-bridge-field-map-{$i}-wp" ); ?>" value="<?php echo esc_attr( $wp_field ); ?>" aria-label="<?php esc_attr_e( 'WordPress field', 'wpf-bridge' ); ?>">
						</td>
					</tr>
				<?php endforeach; ?>
			</tbody>
		</table>
		<p class="description"><?php esc_html_e( 'Need more rows? Save, and three new blank rows appear.', 'wpf-bridge' ); ?></p>
		<?php
	}

	/**
	 * Allowed roles (checkboxes, administrative roles marked) and the default role.
	 *
	 * @param array $settings Values to show.
	 */
	private static function render_role_fields( array $settings ): void {
		$roles = wp_roles()->roles;
		?>
		<tr>
			<th scope="row"><?php esc_html_e( 'Allowed roles', 'wpf-bridge' ); ?></th>
			<td>
				<fieldset id="wpf-bridge-allowed-roles">
					<legend class="screen-reader-text"><?php esc_html_e( 'Allowed roles', 'wpf-bridge' ); ?></legend>
					<?php foreach ( $roles as $slug => $role ) : ?>
						<?php
						$id    = 'wpf-bridge-allowed-role-' . $slug;
						$admin = array_values( array_intersect( self::admin_capabilities(), array_keys( array_filter( (array) ( $role['capabilities'] ?? array() ) ) ) ) );
						?>
						<label for="<?php echo esc_attr( $id ); ?>">
							<input type="checkbox" name="wpf_bridge[allowed_roles][]" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) $slug ); ?>" <?php checked( in_array( (string) $slug, $settings['allowed_roles'], true ) ); ?>>
							<?php echo esc_html( translate_user_role( (string) ( $role['name'] ?? $slug ) ) ); ?>
							<code><?php echo esc_html( (string) $slug ); ?></code>
							<?php if ( $admin ) : ?>
								<strong class="wpf-bridge-admin-role" style="color:#b32d2e">
									<?php
									/* translators: %s: list of capabilities */
									echo esc_html( sprintf( __( 'administrative: %s', 'wpf-bridge' ), implode( ', ', $admin ) ) );
									?>
								</strong>
							<?php endif; ?>
						</label><br>
					<?php endforeach; ?>
				</fieldset>
				<p class="description"><?php esc_html_e( 'Roles a webhook may give with role=... in its URL. Allowing an administrative role lets anyone who knows the access key create an administrator.', 'wpf-bridge' ); ?></p>
			</td>
		</tr>
		<tr>
			<th scope="row"><label for="wpf-bridge-default-role"><?php esc_html_e( 'Default role', 'wpf-bridge' ); ?></label></th>
			<td>
				<select name="wpf_bridge[default_role]" id="wpf-bridge-default-role">
					<?php
					$site_default = (string) get_option( 'default_role', 'subscriber' );
					$site_name    = isset( $roles[ $site_default ]['name'] ) ? translate_user_role( $roles[ $site_default ]['name'] ) : $site_default;
					?>
					<option value="" <?php selected( $settings['default_role'], '' ); ?>>
						<?php
						/* translators: %s: role name */
						echo esc_html( sprintf( __( 'The site\'s default role (%s)', 'wpf-bridge' ), $site_name ) );
						?>
					</option>
					<?php foreach ( $roles as $slug => $role ) : ?>
						<option value="<?php echo esc_attr( (string) $slug ); ?>" <?php selected( $settings['default_role'], (string) $slug ); ?>><?php echo esc_html( translate_user_role( (string) ( $role['name'] ?? $slug ) ) ); ?></option>
					<?php endforeach; ?>
				</select>
				<p class="description"><?php esc_html_e( 'The role of imported users when the webhook asks for none.', 'wpf-bridge' ); ?></p>
			</td>
		</tr>
		<?php
	}

	/**
	 * A text input row.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $settings    Values to show.
	 * @param string $type        Input type.
	 * @param string $description Help text.
	 */
	private static function text_field( string $key, string $label, array $settings, string $type = 'text', string $description = '' ): void {
		$id = self::field_id( $key );
		?>
		<tr>
			<th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
			<td>
				<input type="<?php echo esc_attr( $type ); ?>" class="regular-text" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) ( $settings[ $key ] ?? '' ) ); ?>">
				<?php if ( '' !== $description ) : ?>
					<p class="description"><?php echo esc_html( $description ); ?></p>
				<?php endif; ?>
			</td>
		</tr>
		<?php
	}

	/**
	 * A checkbox row.
	 *
	 * @param string $key      Setting key.
	 * @param string $label    Row label.
	 * @param string $text     Text beside the box.
	 * @param array  $settings Values to show.
	 */
	private static function checkbox_field( string $key, string $label, string $text, array $settings ): void {
		$id = self::field_id( $key );
		?>
		<tr>
			<th scope="row"><?php echo esc_html( $label ); ?></th>
			<td>
				<label for="<?php echo esc_attr( $id ); ?>">
					<input type="checkbox" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="1" <?php checked( ! empty( $settings[ $key ] ) ); ?>>
					<?php echo esc_html( $text ); ?>
				</label>
			</td>
		</tr>
		<?php
	}

	/**
	 * A write-only secret row: never shows the stored value, only whether one is stored or a
	 * wp-config.php constant defines it. Empty keeps the stored value; the box clears it.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $stored      Stored settings.
	 * @param string $description Help text.
	 */
	private static function secret_field( string $key, string $label, array $stored, string $description = '' ): void {
		$id         = self::field_id( $key );
		$overridden = WPF_Bridge_Settings::overridden( $key );
		$has_value  = '' !== (string) $stored[ $key ];
		?>
		<tr>
			<th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
			<td>
				<input type="password" class="regular-text" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="" autocomplete="new-password" <?php disabled( $overridden ); ?>>
				<span class="wpf-bridge-secret-status" id="<?php echo esc_attr( $id . '-status' ); ?>" data-state="<?php echo esc_attr( $overridden ? 'constant' : ( $has_value ? 'stored' : 'empty' ) ); ?>">
					<?php
					if ( $overridden ) {
						/* translators: %s: constant name */
						echo esc_html( sprintf( __( 'Defined in wp-config.php (%s).', 'wpf-bridge' ), (string) WPF_Bridge_Settings::constant_name( $key ) ) );
					} elseif ( $has_value ) {
						esc_html_e( '•••• stored. Leave empty to keep it.', 'wpf-bridge' );
					} else {
						esc_html_e( 'Not set.', 'wpf-bridge' );
					}
					?>
				</span>
				<?php if ( $has_value && ! $overridden ) : ?>
					<br><label for="<?php echo esc_attr( 'wpf-bridge-clear-' . str_replace( '_', '-', $key ) ); ?>">
						<input type="checkbox" name="<?php echo esc_attr( "wpf_bridge_clear[{$key}]" ); ?>" id="<?php echo esc_attr( 'wpf-bridge-clear-' . str_replace( '_', '-', $key ) ); ?>" value="1">
						<?php esc_html_e( 'Remove the stored value', 'wpf-bridge' ); ?>
					</label>
				<?php endif; ?>
				<?php if ( '' !== $description ) : ?>
					<p class="description"><?php echo esc_html( $description ); ?></p>
				<?php endif; ?>
			</td>
		</tr>
		<?php
	}

	/**
	 * Element id of a setting's input: wpf-bridge-{key with dashes}.
	 *
	 * @param string $key Setting key.
	 */
	private static function field_id( string $key ): string {
		return 'wpf-bridge-' . str_replace( '_', '-', $key );
	}
}
