<?php
/**
 * The settings page's "Sources" section (issue 16, several CRMs on one site): the controller.
 * The markup is views/sources.php, which the settings page's template prints with what view()
 * hands it.
 *
 * The site's first source is the top-level settings (the CRM chosen below, the access key of
 * the webhook URLs above); the further ones are the option's `sources` list
 * (WPF_Bridge_Settings::source_keys()). This lists them with their slug, user meta keys and webhook
 * URLs (each with its own access key), adds one (a preset or a pasted custom mapping, a fresh
 * access key), edits one (?source=N: the same form filled, secrets write-only), regenerates its
 * key, and deletes one after a confirmation in the page (?delete_source=N). Every change is a
 * POST with its own nonce and the page's capability, handled on the page's load-* hook before any
 * output; it goes through the one save path (WPF_Bridge_Settings, validated whole by
 * wpf_bridge_validate_settings, whose refusal names `sources[N][key]`): refused, nothing is saved
 * and the form is shown again with the message; saved, it redirects with a flash notice.
 *
 * A source's position N in the list is its address; each POST also carries the slug the page
 * showed at N, so a list changed meanwhile (another tab) is refused instead of editing the wrong
 * source.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The sources section.
 */
final class WPF_Bridge_Sources {

	/** The preset select's value for a pasted mapping. */
	public const CUSTOM = 'custom';

	/** The section's anchor on the settings page. */
	public const ANCHOR = 'wpf-bridge-sources';

	/** The forms: wpf_bridge_action => the nonce's action, its field, the handler. */
	private const ACTIONS = array(
		'save_source'           => array( 'wpf_bridge_save_source', '_wpf_bridge_source_nonce', 'save' ),
		'delete_source'         => array( 'wpf_bridge_delete_source', '_wpf_bridge_delete_source_nonce', 'delete' ),
		'regenerate_source_key' => array( 'wpf_bridge_regenerate_source_key', '_wpf_bridge_source_key_nonce', 'regenerate_key' ),
	);

	/** The URL actions a source's webhook URLs are listed for (the first source's rows of the same ids). */
	private const URL_ROWS = array( 'update', 'update-tags', 'add' );

	/** Blank field map rows offered after a source's existing ones. */
	private const BLANK_FIELD_MAP_ROWS = 3;

	/**
	 * A refused save, shown again: index (null for a new source), preset, mapping (the text as
	 * typed), source (the submitted values; never their secrets), message.
	 *
	 * @var array|null
	 */
	private static ?array $rejected = null;

	/**
	 * The action forms' nonce fields, for the template: action => [nonce action, field].
	 *
	 * @return array<string, array{0: string, 1: string}>
	 */
	public static function nonces(): array {
		return array_map( static fn( array $route ): array => array( $route[0], $route[1] ), self::ACTIONS );
	}

	/**
	 * load-* of the settings page: handles this section's forms (capability and nonce checked
	 * first), then redirects; a refused save is shown again by view() instead.
	 */
	public static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_POST['wpf_bridge_action'] ) || ! is_string( $_POST['wpf_bridge_action'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification -- checked per action below.
			return;
		}
		$route = self::ACTIONS[ sanitize_key( wp_unslash( $_POST['wpf_bridge_action'] ) ) ] ?? null; // phpcs:ignore WordPress.Security.NonceVerification -- checked below.
		if ( null === $route ) {
			return;
		}
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage these settings.', 'wpf-bridge' ), 403 );
		}
		list( $nonce_action, $nonce_field, $handler ) = $route;
		check_admin_referer( $nonce_action, $nonce_field );

		if ( ! WPF_Bridge_Extension::loaded() || ! function_exists( 'wpf_bridge_presets' ) ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'source-no-extension', __( 'Sources cannot be changed: the wpf_bridge extension is not loaded.', 'wpf-bridge' ) );
		} elseif ( false === self::$handler() ) {
			return; // A refused save: view() shows the form again with the message.
		}
		// The flash notice is printed at the top of the page, as WordPress's own are.
		wp_safe_redirect( WPF_Bridge_Settings_Page::url() );
		exit;
	}

	/**
	 * The source a POST names: its position, checked against the slug the page showed there.
	 * Null (with a flash notice) when the list changed meanwhile or the position is not one.
	 *
	 * @param array $sources The stored sources.
	 */
	private static function posted_index( array $sources ): ?int {
		// phpcs:disable WordPress.Security.NonceVerification -- verified by handle_post().
		$index = isset( $_POST['wpf_bridge_source_index'] ) && is_string( $_POST['wpf_bridge_source_index'] ) ? wp_unslash( $_POST['wpf_bridge_source_index'] ) : '';
		$slug  = isset( $_POST['wpf_bridge_source_slug'] ) && is_string( $_POST['wpf_bridge_source_slug'] ) ? wp_unslash( $_POST['wpf_bridge_source_slug'] ) : '';
		// phpcs:enable
		if ( ctype_digit( $index ) && isset( $sources[ (int) $index ] ) && WPF_Bridge_Settings::source_slug( $sources[ (int) $index ] ) === $slug ) {
			return (int) $index;
		}
		WPF_Bridge_Admin_Notices::flash( 'error', 'source-changed', __( 'That source is not there any more (the sources were changed meanwhile): nothing was changed. Check the list and try again.', 'wpf-bridge' ) );
		return null;
	}

	/**
	 * Adds a source, or saves the one edited, when the extension accepts the settings with it.
	 *
	 * @return bool False when refused (nothing saved; the form is shown again).
	 */
	private static function save(): bool {
		$stored  = WPF_Bridge_Settings::stored();
		$sources = $stored[ WPF_Bridge_Settings::SOURCES ];
		$index   = null;
		// phpcs:disable WordPress.Security.NonceVerification -- verified by handle_post().
		if ( isset( $_POST['wpf_bridge_source_index'] ) && '' !== $_POST['wpf_bridge_source_index'] ) {
			$index = self::posted_index( $sources );
			if ( null === $index ) {
				return true;
			}
		}
		$input  = isset( $_POST['wpf_bridge_source'] ) && is_array( $_POST['wpf_bridge_source'] ) ? wp_unslash( $_POST['wpf_bridge_source'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- sanitised in source_from_form().
		$clear  = isset( $_POST['wpf_bridge_source_clear'] ) && is_array( $_POST['wpf_bridge_source_clear'] ) ? wp_unslash( $_POST['wpf_bridge_source_clear'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- only compared with empty().
		$preset = isset( $_POST['wpf_bridge_source_preset'] ) && is_string( $_POST['wpf_bridge_source_preset'] ) ? sanitize_key( wp_unslash( $_POST['wpf_bridge_source_preset'] ) ) : '';
		// The pasted mapping is read byte for byte by json_decode; it is only printed escaped.
		$text = isset( $_POST['wpf_bridge_source_mapping'] ) && is_string( $_POST['wpf_bridge_source_mapping'] ) ? str_replace( "\r\n", "\n", wp_unslash( $_POST['wpf_bridge_source_mapping'] ) ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- see above.
		// phpcs:enable

		// By reference: a refusal shows the mapping and says whether secrets were typed as they
		// are when it happens (a secret pasted in the mapping is out of it by then).
		$refuse = static function ( string $message ) use ( $index, $preset, &$text, &$input ): bool {
			self::$rejected = array(
				'index'   => $index,
				'preset'  => $preset,
				'mapping' => $text,
				'source'  => array(
					'return_password' => ! empty( $input['return_password'] ),
					'field_map'       => (array) ( $input['field_map'] ?? array() ),
				) + array_diff_key( $input, array_flip( WPF_Bridge_Settings::SOURCE_SECRETS ) ),
				'secrets' => (bool) array_filter( array_intersect_key( $input, array_flip( WPF_Bridge_Settings::SOURCE_SECRETS ) ), static fn( $value ): bool => is_string( $value ) && '' !== trim( $value ) ),
				'message' => $message,
			);
			return false;
		};

		if ( self::CUSTOM === $preset ) {
			$mapping = self::decode_mapping( $text );
			if ( is_string( $mapping ) ) {
				return $refuse( $mapping );
			}
			// A secret pasted inside the mapping is the source's signing secret: kept write-only
			// there (unless one was typed), never stored in the mapping the form shows again.
			if ( is_array( $mapping['signature'] ?? null ) && array_key_exists( 'secret', $mapping['signature'] ) ) {
				$pasted = is_string( $mapping['signature']['secret'] ) ? trim( $mapping['signature']['secret'] ) : '';
				if ( '' !== $pasted && '' === trim( (string) ( $input['webhook_secret'] ?? '' ) ) ) {
					$input['webhook_secret'] = $pasted;
				}
				unset( $mapping['signature']['secret'] );
				$text = self::mapping_text( $mapping );
			}
			$input['mapping'] = $mapping;
		} elseif ( isset( self::presets()[ $preset ] ) ) {
			$input['mapping'] = $preset;
		} else {
			return $refuse( __( 'Choose one of the presets, or a custom mapping.', 'wpf-bridge' ) );
		}

		$source = WPF_Bridge_Settings::source_from_form( $input, $clear, null === $index ? null : $sources[ $index ] );
		if ( null === $index ) {
			$sources[] = $source;
			$position  = count( $sources ) - 1;
		} else {
			$sources[ $index ] = $source;
			$position          = $index;
		}
		$settings                                  = $stored;
		$settings[ WPF_Bridge_Settings::SOURCES ] = $sources;

		$error = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::with_constants( $settings ) );
		if ( null !== $error ) {
			return $refuse( $error );
		}
		WPF_Bridge_Settings::save( $settings );
		$name = self::display_name( $source );
		WPF_Bridge_Admin_Notices::flash(
			'success',
			'source-saved',
			null === $index
				/* translators: 1: the source's name, 2: its position in the list */
				? sprintf( __( 'Source "%1$s" added as sources[%2$d]. Paste its webhook URLs into its CRM.', 'wpf-bridge' ), $name, $position )
				/* translators: %s: the source's name */
				: sprintf( __( 'Source "%s" saved.', 'wpf-bridge' ), $name )
		);
		return true;
	}

	/**
	 * The pasted mapping as an array, or why it cannot be one (JSON's syntax error, or not an object).
	 *
	 * @param string $text The textarea's text.
	 * @return array|string
	 */
	private static function decode_mapping( string $text ) {
		if ( strlen( $text ) > WPF_Bridge_Mapping_Tester::MAX_MAPPING_BYTES ) {
			/* translators: %s: the limit in bytes */
			return sprintf( __( 'The mapping may have at most %s bytes.', 'wpf-bridge' ), number_format_i18n( WPF_Bridge_Mapping_Tester::MAX_MAPPING_BYTES ) );
		}
		$mapping = json_decode( $text, true, 128 );
		if ( JSON_ERROR_NONE !== json_last_error() ) {
			/* translators: %s: the JSON parser's message */
			return sprintf( __( 'The custom mapping is not valid JSON: %s. Nothing was saved.', 'wpf-bridge' ), json_last_error_msg() );
		}
		if ( ! is_array( $mapping ) || array() === $mapping || array_is_list( $mapping ) ) {
			return __( 'The custom mapping must be a JSON object, {...}. Nothing was saved.', 'wpf-bridge' );
		}
		return $mapping;
	}

	/**
	 * A mapping as the form shows it: pretty JSON, without a signature secret (one stored by
	 * other means than this page is not printed either).
	 *
	 * @param array $mapping A custom mapping.
	 */
	private static function mapping_text( array $mapping ): string {
		if ( is_array( $mapping['signature'] ?? null ) ) {
			unset( $mapping['signature']['secret'] );
		}
		return (string) wp_json_encode( $mapping, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
	}

	/**
	 * Deletes a source (confirmed in the page first): its key is refused from now on, and its
	 * queued events fail when their turn comes.
	 */
	private static function delete(): void {
		$stored  = WPF_Bridge_Settings::stored();
		$sources = $stored[ WPF_Bridge_Settings::SOURCES ];
		$index   = self::posted_index( $sources );
		if ( null === $index ) {
			return;
		}
		$name = self::display_name( $sources[ $index ] );
		array_splice( $sources, $index, 1 );
		$stored[ WPF_Bridge_Settings::SOURCES ] = $sources;
		WPF_Bridge_Settings::save( $stored );
		/* translators: %s: the source's name */
		WPF_Bridge_Admin_Notices::flash( 'success', 'source-deleted', sprintf( __( 'Source "%s" deleted: its webhook URLs are refused from now on, and its queued events fail.', 'wpf-bridge' ), $name ) );
	}

	/**
	 * Replaces a source's access key with a fresh one (validated with the rest, like a save).
	 */
	private static function regenerate_key(): void {
		$stored  = WPF_Bridge_Settings::stored();
		$sources = $stored[ WPF_Bridge_Settings::SOURCES ];
		$index   = self::posted_index( $sources );
		if ( null === $index ) {
			return;
		}
		$sources[ $index ]['access_key']          = WPF_Bridge_Settings::generate_access_key();
		$stored[ WPF_Bridge_Settings::SOURCES ] = $sources;
		$error                                    = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::with_constants( $stored ) );
		if ( null !== $error ) {
			/* translators: %s: the extension's validation message */
			WPF_Bridge_Admin_Notices::flash( 'error', 'source-key-refused', sprintf( __( 'No new key: %s', 'wpf-bridge' ), $error ) );
			return;
		}
		WPF_Bridge_Settings::save( $stored );
		/* translators: %s: the source's name */
		WPF_Bridge_Admin_Notices::flash( 'success', 'source-key-regenerated', sprintf( __( 'New access key for "%s". Update its webhook URLs in its CRM: the old key no longer works.', 'wpf-bridge' ), self::display_name( $sources[ $index ] ) ) );
	}

	/**
	 * What views/sources.php prints: the first source, the further ones (name, CRM, slug, meta
	 * keys, URLs), the presets to choose from, and the form (add, edit or a refused save's),
	 * or the delete confirmation.
	 *
	 * @param array $settings The stored settings (the first source's keys).
	 */
	public static function view( array $settings ): array {
		$loaded  = WPF_Bridge_Extension::loaded() && function_exists( 'wpf_bridge_presets' );
		$presets = $loaded ? self::presets() : array();
		$sources = (array) ( $settings[ WPF_Bridge_Settings::SOURCES ] ?? array() );
		$rows    = array();
		foreach ( $sources as $index => $source ) {
			$slug           = WPF_Bridge_Settings::source_slug( $source );
			$rows[ $index ] = array(
				'name'      => self::display_name( $source ),
				'crm'       => is_array( $source['mapping'] ) ? __( 'Custom mapping', 'wpf-bridge' ) : (string) ( $presets[ $slug ]['name'] ?? $slug ),
				'slug'      => $slug,
				'meta_keys' => self::meta_keys( $slug ),
				'urls'      => '' === $source['access_key'] ? array() : array_intersect_key( WPF_Bridge_Settings_Page::webhook_urls( $source['access_key'] ), array_flip( self::URL_ROWS ) ),
			);
		}
		$crm  = (string) ( $settings['crm'] ?? '' );
		$crms = (array) ( WPF_Bridge_Extension::rules()['crms'] ?? array() );
		return array(
			'loaded'  => $loaded,
			'first'   => array(
				'crm'       => (string) ( $crms[ $crm ]['name'] ?? $crm ),
				'slug'      => $crm,
				'meta_keys' => self::meta_keys( $crm ),
			),
			'rows'    => $rows,
			'presets' => array_map(
				static fn( $preset ): array => array(
					'name'       => (string) ( $preset['name'] ?? '' ),
					'api_client' => ! empty( $preset['api_client'] ),
					'signature'  => null !== ( $preset['signature_header'] ?? null ),
				),
				$presets
			),
			'form'    => $loaded ? self::form( $sources ) : null,
			'delete'  => $loaded ? self::delete_confirmation( $rows ) : null,
			'nonces'  => self::nonces(),
		);
	}

	/**
	 * The source form's values: a refused save's, the source of ?source=N, or a blank new one.
	 * Secrets appear only as their state (stored or empty).
	 *
	 * @param array $sources The stored sources.
	 */
	private static function form( array $sources ): array {
		$edit = self::requested_index( 'source', $sources );
		if ( null !== self::$rejected ) {
			$edit   = self::$rejected['index'];
			$source = self::$rejected['source'] + ( null === $edit ? ( WPF_Bridge_Settings::source_keys() ?? array() ) : $sources[ $edit ] );
			$preset = self::$rejected['preset'];
			$text   = self::$rejected['mapping'];
		} elseif ( null !== $edit ) {
			$source = $sources[ $edit ];
			$preset = is_array( $source['mapping'] ) ? self::CUSTOM : (string) $source['mapping'];
			$text   = is_array( $source['mapping'] ) ? self::mapping_text( $source['mapping'] ) : '';
		} else {
			$source = WPF_Bridge_Settings::source_keys() ?? array();
			$preset = '';
			$text   = '';
		}
		$stored  = null === $edit ? null : $sources[ $edit ];
		$secrets = array();
		foreach ( WPF_Bridge_Settings::SOURCE_SECRETS as $key ) {
			$secrets[ $key ] = array(
				'state'    => null !== $stored && '' !== (string) $stored[ $key ] ? 'stored' : 'empty',
				'constant' => null,
			);
		}
		$field_map = array();
		$map       = is_array( $source['field_map'] ?? null ) ? $source['field_map'] : array();
		if ( array_is_list( $map ) ) {
			// A refused save's rows as submitted: [crm, wp] pairs.
			foreach ( $map as $row ) {
				$field_map[] = array( (string) ( $row['crm'] ?? '' ), (string) ( $row['wp'] ?? '' ) );
			}
			$field_map = array_values( array_filter( $field_map, static fn( array $row ): bool => '' !== $row[0] || '' !== $row[1] ) );
		} else {
			foreach ( $map as $crm_field => $wp_field ) {
				$field_map[] = array( (string) $crm_field, (string) $wp_field );
			}
		}
		for ( $i = 0; $i < self::BLANK_FIELD_MAP_ROWS; $i++ ) {
			$field_map[] = array( '', '' );
		}
		return array(
			'index'     => $edit,
			'slug'      => null === $stored ? '' : WPF_Bridge_Settings::source_slug( $stored ),
			'preset'    => $preset,
			'mapping'   => $text,
			'values'    => array(
				'name'                  => (string) ( $source['name'] ?? '' ),
				'api_url'               => (string) ( $source['api_url'] ?? '' ),
				'return_password'       => ! empty( $source['return_password'] ),
				'return_password_field' => (string) ( $source['return_password_field'] ?? '' ),
			),
			'secrets'   => $secrets,
			'field_map' => $field_map,
			'rejected'  => null === self::$rejected ? null : self::$rejected['message'] . ( self::$rejected['secrets'] ? ' ' . __( '(The secrets you typed are not shown again: type them once more.)', 'wpf-bridge' ) : '' ),
		);
	}

	/**
	 * The source ?delete_source=N asks to delete, for the confirmation: index, slug, name.
	 *
	 * @param array $rows The listed sources.
	 */
	private static function delete_confirmation( array $rows ): ?array {
		$index = self::requested_index( 'delete_source', $rows );
		return null === $index ? null : array(
			'index' => $index,
			'slug'  => $rows[ $index ]['slug'],
			'name'  => $rows[ $index ]['name'],
		);
	}

	/**
	 * A position a GET parameter names, when the list has it.
	 *
	 * @param string $param The query parameter.
	 * @param array  $list  The sources (or their rows).
	 */
	private static function requested_index( string $param, array $list ): ?int {
		$value = isset( $_GET[ $param ] ) && is_string( $_GET[ $param ] ) ? sanitize_text_field( wp_unslash( $_GET[ $param ] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification -- only chooses what the page shows.
		return ctype_digit( $value ) && isset( $list[ (int) $value ] ) ? (int) $value : null;
	}

	/**
	 * A source's name: its own, else the preset's, the custom mapping's `name`, or its slug.
	 *
	 * @param array $source A coerced source.
	 */
	public static function display_name( array $source ): string {
		if ( '' !== $source['name'] ) {
			return $source['name'];
		}
		$mapping = $source['mapping'];
		if ( is_array( $mapping ) ) {
			return isset( $mapping['name'] ) && is_string( $mapping['name'] ) && '' !== $mapping['name'] ? $mapping['name'] : WPF_Bridge_Settings::source_slug( $source );
		}
		return (string) ( self::presets()[ $mapping ]['name'] ?? $mapping );
	}

	/**
	 * The user meta a slug's contacts are linked by, by the extension's one rule for any
	 * source's slug (wpf_bridge_rules()['source_meta_keys'], `{slug}` replaced).
	 *
	 * @param string $slug The source's slug.
	 * @return array{0: string, 1: string} The contact id and tags meta keys ('' when unknown).
	 */
	private static function meta_keys( string $slug ): array {
		$rule = (array) ( WPF_Bridge_Extension::rules()['source_meta_keys'] ?? array() );
		if ( '' === $slug || ! isset( $rule['contact_id'], $rule['tags'] ) ) {
			return array( '', '' );
		}
		return array( str_replace( '{slug}', $slug, (string) $rule['contact_id'] ), str_replace( '{slug}', $slug, (string) $rule['tags'] ) );
	}

	/**
	 * The presets the extension ships, slug => preset (name, mapping, meta keys, api_client, ...).
	 */
	private static function presets(): array {
		static $presets = null;
		if ( null === $presets ) {
			try {
				$presets = function_exists( 'wpf_bridge_presets' ) ? (array) wpf_bridge_presets() : array();
			} catch ( \Throwable $e ) {
				$presets = array();
			}
		}
		return $presets;
	}
}
