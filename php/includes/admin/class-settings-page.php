<?php
/**
 * Settings > WPF Bridge (options-general.php?page=wpf-bridge): the controller. The markup is
 * views/settings-page.php, which prints what render() hands it.
 *
 * Shows the webhook URLs to copy into the CRM, regenerates the access key, edits the
 * settings (validated by the extension before anything is saved), and tests the CRM
 * connection; its "Sources" section (the further CRMs of issue 16) is WPF_Bridge_Sources's,
 * its "Test a webhook mapping" section WPF_Bridge_Mapping_Tester's (a dry run shown in the
 * same response). Every other form posts back to this page with a nonce and
 * is handled on the page's load-* hook, before any output, then redirects (post/redirect/get)
 * with a flash notice; a rejected save is shown again with the submitted values instead.
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

	/**
	 * The page's forms (and the WP Fusion notice's, which post here too): wpf_bridge_action =>
	 * the nonce's action and field, and the handler (false from it: nothing to redirect to).
	 */
	private const ACTIONS = array(
		'save'                   => array( 'wpf_bridge_save', '_wpf_bridge_save_nonce', 'save' ),
		'regenerate_key'         => array( 'wpf_bridge_regenerate_key', '_wpf_bridge_regenerate_nonce', 'regenerate_key' ),
		'test_connection'        => array( 'wpf_bridge_test_connection', '_wpf_bridge_test_nonce', 'test_connection' ),
		'reuse_wpf_key'          => array( 'wpf_bridge_reuse_wpf_key', '_wpf_bridge_reuse_nonce', 'reuse_wp_fusion_key' ),
		'dismiss_wpf_key_notice' => array( 'wpf_bridge_dismiss_wpf_key_notice', '_wpf_bridge_dismiss_nonce', 'dismiss_wp_fusion_key_notice' ),
	);

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
			add_action( 'load-' . $hook, array( 'WPF_Bridge_Mapping_Tester', 'handle_post' ) );
			add_action( 'load-' . $hook, array( 'WPF_Bridge_Sources', 'handle_post' ) );
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
	 * load-*: the pages' stylesheet and script (enqueued on this page and the webhooks page only).
	 */
	public static function enqueue(): void {
		add_action( 'admin_enqueue_scripts', array( 'WPF_Bridge_Admin_View', 'enqueue_assets' ) );
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
		$route  = self::ACTIONS[ $action ] ?? null;
		if ( null === $route ) {
			return;
		}
		list( $nonce_action, $nonce_field, $handler ) = $route;
		check_admin_referer( $nonce_action, $nonce_field );
		if ( false === self::$handler() ) {
			return; // A rejected save: render() shows the submitted values and the message.
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
	 * Keeps WPF Bridge's own key: the WP Fusion notice is not shown again.
	 */
	private static function dismiss_wp_fusion_key_notice(): void {
		update_option( WPF_Bridge_Admin_Notices::WPF_KEY_DISMISSED_OPTION, 1, false );
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
	 * Renders the page (views/settings-page.php) with what it shows: the values (stored, or a
	 * rejected submission), the secrets' states, the status, the webhook URLs, the rules.
	 */
	public static function render(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$stored   = WPF_Bridge_Settings::stored();
		$settings = self::$rejected_settings ?? $stored;
		$key      = (string) WPF_Bridge_Settings::effective()['access_key'];
		$loaded   = WPF_Bridge_Extension::loaded();
		$rejected = null;
		if ( null !== self::$rejected_settings ) {
			/* translators: %s: the extension's validation message, naming the setting */
			$rejected = sprintf( __( 'Settings not saved: %s', 'wpf-bridge' ), self::$rejected_message );
			if ( self::$rejected_had_secrets ) {
				$rejected .= ' ' . __( '(The secrets you typed are not shown again: type them once more.)', 'wpf-bridge' );
			}
		}
		WPF_Bridge_Admin_View::render(
			'settings-page',
			array(
				'settings'            => $settings,
				'secrets'             => self::secrets( $stored ),
				'rejected'            => $rejected,
				'status'              => array(
					'loaded'          => $loaded,
					'version'         => WPF_Bridge_Extension::version(),
					'version_matches' => $loaded && WPF_Bridge_Extension::version_matches(),
					'install'         => $loaded ? '' : ( WPF_Bridge_Extension::runtime_mismatch() ?? WPF_Bridge_Extension::install_instruction() ),
					'readme_url'      => WPF_Bridge_Extension::readme_url(),
					'runtime'         => $loaded ? WPF_Bridge_Extension::runtime_mismatch() : null,
					'settings_error'  => $loaded ? WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::effective() ) : null,
					'wp_fusion'       => class_exists( 'WP_Fusion' ),
				),
				'access_key'          => $key,
				'key_overridden'      => WPF_Bridge_Settings::overridden( 'access_key' ),
				'webhook_urls'        => '' === $key ? array() : self::webhook_urls( $key ),
				'rules'               => WPF_Bridge_Extension::rules(),
				'roles'               => self::roles(),
				'site_default_role'   => self::site_default_role(),
				'field_map_rows'      => self::field_map_rows( (array) $settings['field_map'] ),
				'argon2id_hash_length' => WPF_Bridge_Passwords::ARGON2ID_HASH_LENGTH,
				'mapping_tester'      => WPF_Bridge_Mapping_Tester::view(),
				'sources'             => WPF_Bridge_Sources::view( $stored ),
			)
		);
	}

	/**
	 * Each secret's state for its write-only row: defined by a constant, stored, or empty.
	 *
	 * @param array $stored Stored settings.
	 * @return array<string, array{state: string, constant: string|null}>
	 */
	private static function secrets( array $stored ): array {
		$secrets = array();
		foreach ( array_keys( WPF_Bridge_Settings::SECRET_CONSTANTS ) as $key ) {
			$overridden       = WPF_Bridge_Settings::overridden( $key );
			$secrets[ $key ] = array(
				'state'    => $overridden ? 'constant' : ( '' !== (string) ( $stored[ $key ] ?? '' ) ? 'stored' : 'empty' ),
				'constant' => WPF_Bridge_Settings::constant_name( $key ),
			);
		}
		return $secrets;
	}

	/**
	 * The webhook URLs to copy: id => label, url, description.
	 *
	 * @param string $key The access key.
	 * @return array<string, array{label: string, url: string, description: string}>
	 */
	public static function webhook_urls( string $key ): array {
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
		$urls = array();
		foreach ( $rows as $id => list( $label, $args, $description ) ) {
			$query       = array(
				'wpf_action' => $args['wpf_action'],
				'access_key' => $key,
			) + $args;
			$urls[ $id ] = array(
				'label'       => $label,
				'url'         => add_query_arg( array_map( 'rawurlencode', $query ), home_url( '/' ) ),
				'description' => $description,
			);
		}
		return $urls;
	}

	/**
	 * The site's roles: slug => translated name and the administrative capabilities it holds
	 * (the extension's list; a warning beside its checkbox).
	 *
	 * @return array<string, array{name: string, admin_capabilities: string[]}>
	 */
	private static function roles(): array {
		$roles = array();
		foreach ( wp_roles()->roles as $slug => $role ) {
			$roles[ (string) $slug ] = array(
				'name'               => translate_user_role( (string) ( $role['name'] ?? $slug ) ),
				'admin_capabilities' => array_values( array_intersect( self::admin_capabilities(), array_keys( array_filter( (array) ( $role['capabilities'] ?? array() ) ) ) ) ),
			);
		}
		return $roles;
	}

	/** The name of the site's default role. */
	private static function site_default_role(): string {
		$slug  = (string) get_option( 'default_role', 'subscriber' );
		$roles = wp_roles()->roles;
		return isset( $roles[ $slug ]['name'] ) ? translate_user_role( $roles[ $slug ]['name'] ) : $slug;
	}

	/**
	 * The field map rows: the existing entries, then blank rows.
	 *
	 * @param array $field_map CRM field alias => WordPress field.
	 * @return array<int, array{0: string, 1: string}>
	 */
	private static function field_map_rows( array $field_map ): array {
		$rows = array();
		foreach ( $field_map as $crm_field => $wp_field ) {
			$rows[] = array( (string) $crm_field, (string) $wp_field );
		}
		for ( $i = 0; $i < self::BLANK_FIELD_MAP_ROWS; $i++ ) {
			$rows[] = array( '', '' );
		}
		return $rows;
	}
}
