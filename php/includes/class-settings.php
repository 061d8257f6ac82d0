<?php
/**
 * The settings: option storage, defaults, and wp-config.php constants that override secrets.
 *
 * The extension validates and interprets every value (wpf_bridge_validate_settings) and names
 * every key with its default (wpf_bridge_rules); this class only stores what the admin page
 * submits, in the shape the extension takes, and hands it over.
 *
 * The top-level keys are the site's first source (its CRM, access key, secrets, field map);
 * `sources` lists the further ones (issue 16), each a small array of its own (source_keys()) whose
 * secrets (SOURCE_SECRETS) are write-only like the top-level ones.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Option `wpf_bridge_settings`.
 */
final class WPF_Bridge_Settings {

	/** The option holding every setting. */
	public const OPTION = 'wpf_bridge_settings';

	/** Secrets that a constant in wp-config.php overrides (setting key => constant name). */
	public const SECRET_CONSTANTS = array(
		'access_key'         => 'WPF_BRIDGE_ACCESS_KEY',
		'webhook_secret'     => 'WPF_BRIDGE_WEBHOOK_SECRET',
		'mautic_password'    => 'WPF_BRIDGE_MAUTIC_PASSWORD',
		'mautic_token'       => 'WPF_BRIDGE_MAUTIC_TOKEN',
		'userengage_api_key' => 'WPF_BRIDGE_USERENGAGE_API_KEY',
	);

	/** The list of further sources (issue 16); the top-level keys are the first source. */
	public const SOURCES = 'sources';

	/**
	 * A further source's keys with their default (the stored type), as the extension publishes
	 * them (wpf_bridge_rules()['source_settings']): `mapping` is a preset slug or a custom
	 * mapping array; the extension validates each (naming it `sources[N][key]`). Null without
	 * the extension: sources are then kept as stored.
	 */
	public static function source_keys(): ?array {
		$rules = WPF_Bridge_Extension::rules();
		return is_array( $rules['source_settings'] ?? null ) ? $rules['source_settings'] : null;
	}

	/** A source's secrets: write-only on the settings page, never printed or logged. */
	public const SOURCE_SECRETS = array( 'access_key', 'webhook_secret', 'api_key' );

	/** Settings the plugin uses itself and never passes to the extension, with their defaults. */
	public const PLUGIN_DEFAULTS = array( 'argon2_passwords' => false );

	/**
	 * Every setting with its default value; the types here are the types stored. The
	 * extension's keys and defaults come from the extension; without it only the access key
	 * (made at activation) and the plugin's own keys are known.
	 */
	public static function defaults(): array {
		$rules = WPF_Bridge_Extension::rules();
		$known = is_array( $rules['settings'] ?? null ) ? $rules['settings'] : array( 'access_key' => '' );
		return $known + self::PLUGIN_DEFAULTS;
	}

	/**
	 * The stored settings, completed with defaults and coerced to the default types.
	 * Constants are NOT applied: this is what the database holds.
	 */
	public static function stored(): array {
		$option = get_option( self::OPTION, array() );
		return self::coerce( is_array( $option ) ? $option : array() );
	}

	/**
	 * The settings in force: stored values with the wp-config.php constants applied.
	 */
	public static function effective(): array {
		return self::with_constants( self::stored() );
	}

	/**
	 * The array passed to the extension: effective settings without the plugin's own keys.
	 *
	 * @param array|null $settings Settings to convert (constants already applied); default effective().
	 */
	public static function for_extension( ?array $settings = null ): array {
		$settings = $settings ?? self::effective();
		return array_diff_key( $settings, self::PLUGIN_DEFAULTS );
	}

	/**
	 * The array passed to the extension, as the database holds it at this moment: what a
	 * long-lived drain asks before each contact (wpf_bridge_drain takes this as a callable),
	 * so a setting saved meanwhile (another CRM, field map, credentials) applies to the next
	 * contact. get_option() would answer from this request's option cache, which keeps what
	 * was read when the request began; the option row is read directly instead.
	 *
	 * @throws RuntimeException When the database cannot be read.
	 */
	public static function current_for_extension(): array {
		global $wpdb;
		$wpdb->flush();
		$raw = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s LIMIT 1", self::OPTION ) );
		if ( '' !== (string) $wpdb->last_error ) {
			throw new RuntimeException( 'Could not read the settings: database error' );
		}
		$option = null === $raw ? array() : maybe_unserialize( $raw );
		/** This filter is documented in wp-includes/option.php */
		$option = apply_filters( 'option_' . self::OPTION, $option, self::OPTION );
		return self::for_extension( self::with_constants( self::coerce( is_array( $option ) ? $option : array() ) ) );
	}

	/**
	 * Applies the secret constants defined in wp-config.php.
	 */
	public static function with_constants( array $settings ): array {
		foreach ( self::SECRET_CONSTANTS as $key => $constant ) {
			if ( self::overridden( $key ) ) {
				$settings[ $key ] = (string) constant( $constant );
			}
		}
		return $settings;
	}

	/**
	 * Stores settings (never the constants' values: pass what stored() or from_form() gave).
	 */
	public static function save( array $settings ): void {
		update_option( self::OPTION, self::coerce( $settings ), true );
	}

	/**
	 * Whether a constant in wp-config.php overrides this setting.
	 */
	public static function overridden( string $key ): bool {
		$constant = self::SECRET_CONSTANTS[ $key ] ?? null;
		return null !== $constant && defined( $constant ) && is_string( constant( $constant ) ) && '' !== constant( $constant );
	}

	/**
	 * Name of the constant that can override this setting, or null.
	 */
	public static function constant_name( string $key ): ?string {
		return self::SECRET_CONSTANTS[ $key ] ?? null;
	}

	/**
	 * Whether this setting is a secret (write-only in the admin page, never logged).
	 */
	public static function is_secret( string $key ): bool {
		return isset( self::SECRET_CONSTANTS[ $key ] ) || self::is_source_secret( $key );
	}

	/**
	 * Whether this key of a further source is a secret: its bare name (`api_key`) or its path as
	 * the extension names it (`sources[0][api_key]`).
	 *
	 * @param string $key A source's key, or its `sources[N][key]` path.
	 */
	public static function is_source_secret( string $key ): bool {
		if ( 1 === preg_match( '/^' . self::SOURCES . '\[\d+\]\[([a-z_]+)\]$/', $key, $match ) ) {
			$key = $match[1];
		}
		return in_array( $key, self::SOURCE_SECRETS, true );
	}

	/**
	 * The further sources stored, each coerced (source_keys()), in their order: position N is the
	 * `sources[N]` the extension names.
	 *
	 * @return array<int, array>
	 */
	public static function sources(): array {
		return self::stored()[ self::SOURCES ];
	}

	/**
	 * A source's slug: the preset's slug, or the custom mapping's `slug` ('' when it has none).
	 *
	 * @param array $source A coerced source.
	 */
	public static function source_slug( array $source ): string {
		$mapping = $source['mapping'];
		if ( is_array( $mapping ) ) {
			return isset( $mapping['slug'] ) && is_scalar( $mapping['slug'] ) ? (string) $mapping['slug'] : '';
		}
		return (string) $mapping;
	}

	/**
	 * Builds a further source from its form on the settings page. Secrets are write-only as the
	 * top-level ones are: empty keeps the stored value, a ticked "clear" box removes it; the
	 * access key is never in the form (a new source gets a fresh one, regenerate_source_key()
	 * replaces it).
	 *
	 * @param array       $input   wp_unslash( $_POST['wpf_bridge_source'] ), with `mapping` the
	 *                             preset slug or the decoded custom mapping array.
	 * @param array       $clear   wp_unslash( $_POST['wpf_bridge_source_clear'] ): secret => '1'.
	 * @param array|null  $stored  The source before this save, or null for a new one.
	 */
	public static function source_from_form( array $input, array $clear, ?array $stored ): array {
		$text   = static fn( $value ): string => is_scalar( $value ) ? trim( sanitize_text_field( (string) $value ) ) : '';
		$source = $stored ?? array( 'access_key' => self::generate_access_key() );

		$source['mapping'] = is_array( $input['mapping'] ?? null ) ? $input['mapping'] : sanitize_key( $text( $input['mapping'] ?? '' ) );
		foreach ( array( 'name', 'api_url', 'return_password_field' ) as $key ) {
			$source[ $key ] = $text( $input[ $key ] ?? '' );
		}
		$source['return_password'] = ! empty( $input['return_password'] );

		$source              = self::secrets_from_form( $source, self::SOURCE_SECRETS, $input, $clear );
		$source['field_map'] = self::field_map_from_form( $input );
		return self::coerce_source( $source );
	}

	/**
	 * Read at plugin load, before pluggable.php: one autoloaded option read, no extension call.
	 */
	public static function argon2_passwords_enabled(): bool {
		$option = get_option( self::OPTION, array() );
		return is_array( $option ) && ! empty( $option['argon2_passwords'] );
	}

	/**
	 * Stores a new access key, keeping every other setting.
	 */
	public static function set_access_key( string $key ): void {
		$settings               = self::stored();
		$settings['access_key'] = $key;
		self::save( $settings );
	}

	/**
	 * WP Fusion's access key (option `wpf_options`), when WP Fusion's settings are present.
	 * Reusing it keeps the CRM automations that already call `?wpf_action=...&access_key=...` working.
	 */
	public static function wp_fusion_access_key(): ?string {
		$options = get_option( 'wpf_options' );
		$key     = is_array( $options ) && isset( $options['access_key'] ) && is_string( $options['access_key'] ) ? trim( $options['access_key'] ) : '';
		return '' === $key ? null : $key;
	}

	/**
	 * A new random access key: the extension's generator, or 32 base64url characters from
	 * random_bytes when the extension is missing (so activation works before it is installed).
	 */
	public static function generate_access_key(): string {
		if ( function_exists( 'wpf_bridge_generate_access_key' ) ) {
			try {
				$key = (string) wpf_bridge_generate_access_key();
				if ( '' !== $key ) {
					return $key;
				}
			} catch ( \Throwable $e ) {
				// Fall through to the PHP generator.
				unset( $e );
			}
		}
		return rtrim( strtr( base64_encode( random_bytes( 24 ) ), '+/', '-_' ), '=' );
	}

	/**
	 * Asks the extension whether these settings are valid.
	 *
	 * @param array $settings Settings with constants applied (e.g. effective()).
	 * @return string|null The extension's message naming the bad key, or null when valid.
	 * @throws LogicException When the extension is not loaded (callers check first).
	 */
	public static function validation_error( array $settings ): ?string {
		if ( ! function_exists( 'wpf_bridge_validate_settings' ) ) {
			throw new LogicException( 'The wpf_bridge extension is not loaded.' );
		}
		try {
			wpf_bridge_validate_settings( self::for_extension( $settings ) );
			return null;
		} catch ( \Throwable $e ) {
			// ConfigurationException messages name the key, never its value.
			return $e->getMessage();
		}
	}

	/**
	 * Builds settings from the admin form.
	 *
	 * Secret fields are write-only: an empty field keeps the stored value, and a ticked
	 * "clear" box removes it. The access key is not part of the form.
	 *
	 * @param array $input  wp_unslash( $_POST['wpf_bridge'] ).
	 * @param array $clear  wp_unslash( $_POST['wpf_bridge_clear'] ): secret key => '1'.
	 * @param array $stored The settings stored before this save.
	 */
	public static function from_form( array $input, array $clear, array $stored ): array {
		$text     = static fn( $value ): string => is_scalar( $value ) ? trim( sanitize_text_field( (string) $value ) ) : '';
		$settings = $stored;

		// A setting the page does not show keeps its stored value; a checkbox the page shows
		// is absent from the form when unticked.
		foreach ( self::defaults() as $key => $default ) {
			if ( is_bool( $default ) ) {
				$settings[ $key ] = ! empty( $input[ $key ] );
			} elseif ( ( is_string( $default ) || is_int( $default ) ) && ! self::is_secret( $key ) && array_key_exists( $key, $input ) ) {
				$settings[ $key ] = $text( $input[ $key ] );
			}
		}

		$settings = self::secrets_from_form( $settings, array_keys( self::SECRET_CONSTANTS ), $input, $clear );

		// The retry delays come as comma-separated text; whole numbers are stored as numbers, and
		// anything else as typed, so the extension names the setting in its refusal.
		if ( array_key_exists( 'retry_delays', $input ) ) {
			$delays = array_map( 'trim', explode( ',', $text( $input['retry_delays'] ) ) );
			$delays = array_map( static fn( string $item ) => ctype_digit( $item ) ? (int) $item : $item, $delays );
			$settings['retry_delays'] = array( '' ) === $delays ? ( self::defaults()['retry_delays'] ?? array() ) : $delays;
		}

		$settings['field_map'] = self::field_map_from_form( $input );

		$roles = array_map( $text, (array) ( $input['allowed_roles'] ?? array() ) );
		$settings['allowed_roles'] = array_values( array_unique( array_filter( $roles, 'strlen' ) ) );

		return self::coerce( $settings );
	}

	/**
	 * The write-only secrets of a form (the settings' or a source's), the access key excepted
	 * (never in a form): one typed is taken as typed (no sanitize_text_field: it strips %xx and
	 * tags), trimmed; an empty field keeps the stored value; a ticked "clear" box removes it.
	 *
	 * @param array    $into  The values before this save.
	 * @param string[] $keys  The form's secret keys.
	 * @param array    $input The submitted values.
	 * @param array    $clear The ticked clear boxes: key => '1'.
	 */
	private static function secrets_from_form( array $into, array $keys, array $input, array $clear ): array {
		foreach ( $keys as $key ) {
			if ( 'access_key' === $key ) {
				continue;
			}
			$value = isset( $input[ $key ] ) && is_string( $input[ $key ] ) ? trim( $input[ $key ] ) : '';
			if ( '' !== $value ) {
				$into[ $key ] = $value;
			} elseif ( ! empty( $clear[ $key ] ) ) {
				$into[ $key ] = '';
			}
		}
		return $into;
	}

	/**
	 * A form's field map rows (`field_map[i][crm]`, `[wp]`) as CRM field => WordPress field; a
	 * row with either side empty is dropped (that is how a row is removed).
	 *
	 * @param array $input The submitted values.
	 * @return array<string, string>
	 */
	private static function field_map_from_form( array $input ): array {
		$map = array();
		foreach ( (array) ( $input['field_map'] ?? array() ) as $row ) {
			if ( ! is_array( $row ) ) {
				continue;
			}
			$crm_field = is_scalar( $row['crm'] ?? null ) ? trim( sanitize_text_field( (string) $row['crm'] ) ) : '';
			$wp_field  = is_scalar( $row['wp'] ?? null ) ? trim( sanitize_text_field( (string) $row['wp'] ) ) : '';
			if ( '' !== $crm_field && '' !== $wp_field ) {
				$map[ $crm_field ] = $wp_field;
			}
		}
		return $map;
	}

	/**
	 * Completes with defaults, drops unknown keys, and gives every value its default's type.
	 * A number typed as text that is not a number is kept as text, so the extension names it
	 * in its "must be a whole number" message instead of it silently becoming the default.
	 * Without the extension nothing is dropped: what is stored waits for it.
	 */
	private static function coerce( array $settings ): array {
		$out = WPF_Bridge_Extension::rules() ? array() : $settings;
		foreach ( self::defaults() as $key => $default ) {
			$value = $settings[ $key ] ?? $default;
			if ( is_bool( $default ) ) {
				$value = (bool) $value;
			} elseif ( is_array( $default ) ) {
				$value = is_array( $value ) ? $value : $default;
			} elseif ( is_int( $default ) ) {
				$value = is_numeric( $value ) ? (int) $value : ( is_string( $value ) && '' !== trim( $value ) ? trim( $value ) : $default );
			} else {
				$value = is_scalar( $value ) ? (string) $value : $default;
			}
			$out[ $key ] = $value;
		}
		foreach ( array( 'field_map', 'allowed_roles' ) as $key ) {
			if ( isset( $out[ $key ] ) && is_array( $out[ $key ] ) ) {
				$out[ $key ] = array_map( 'strval', array_filter( $out[ $key ], 'is_scalar' ) );
			}
		}
		if ( isset( $out['allowed_roles'] ) ) {
			$out['allowed_roles'] = array_values( $out['allowed_roles'] );
		}
		$sources               = $settings[ self::SOURCES ] ?? array();
		$out[ self::SOURCES ] = array_values( array_map( array( self::class, 'coerce_source' ), array_filter( is_array( $sources ) ? $sources : array(), 'is_array' ) ) );
		return $out;
	}

	/**
	 * One further source with its keys only (source_keys()), each of its default's type; the
	 * mapping stays a slug or an array, whatever it holds, for the extension to judge.
	 *
	 * @param array $source A stored or submitted source.
	 */
	private static function coerce_source( array $source ): array {
		$keys = self::source_keys();
		if ( null === $keys ) {
			return $source;
		}
		$out = array();
		foreach ( $keys as $key => $default ) {
			$value = $source[ $key ] ?? $default;
			if ( 'mapping' === $key ) {
				$value = is_array( $value ) ? $value : ( is_scalar( $value ) ? (string) $value : '' );
			} elseif ( is_bool( $default ) ) {
				$value = (bool) $value;
			} elseif ( is_array( $default ) ) {
				$value = is_array( $value ) ? array_map( 'strval', array_filter( $value, 'is_scalar' ) ) : $default;
			} else {
				$value = is_scalar( $value ) ? (string) $value : $default;
			}
			$out[ $key ] = $value;
		}
		return $out;
	}
}
