<?php
/**
 * The settings page's "Test a webhook mapping" form (issue 16): the controller. The markup is
 * views/mapping-tester.php, which the settings page's template prints with what view() hands it.
 *
 * A dry run: the owner picks a preset (`wpf_bridge_presets()`) or pastes a mapping (JSON), pastes
 * a sample body, its headers and, optionally, the signing secret; the extension reads the body
 * with `wpf_bridge_parse_webhook()` exactly as a webhook would be read, and the page shows what it
 * read per item (contact id, email, tags, fields, event time), the signature's verdict, the items
 * it ignored (code, and the pointer that failed with the keys that were there), or the mapping's
 * validation error naming the field by its pointer. Nothing is stored, applied or logged: the
 * result lives in this request only (no redirect, no flash notice), and the secret is never
 * printed back. The body is untrusted: the template escapes every value and replaces the
 * bidirectional controls (WPF_Bridge_Admin_View::neutralise()).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The mapping tester.
 */
final class WPF_Bridge_Mapping_Tester {

	/** The form's wpf_bridge_action. */
	public const ACTION = 'test_mapping';

	/** The nonce's action and field. */
	public const NONCE_ACTION = 'wpf_bridge_test_mapping';
	public const NONCE_FIELD  = '_wpf_bridge_mapping_nonce';

	/** The preset select's value for a pasted mapping. */
	public const CUSTOM = 'custom';

	/** The actions a webhook URL may name that read a body (the URL contract's; `test` reads none). */
	public const ACTIONS = array( 'update', 'update_tags', 'add' );

	/** Bounds of the other inputs (the body's is the max_body_bytes setting). */
	public const MAX_MAPPING_BYTES = 65536;
	public const MAX_HEADER_LINES  = 100;
	public const MAX_HEADER_BYTES  = 16384;
	public const MAX_SECRET_BYTES  = 1024;

	/** Checks a pasted signature section without a secret; never a verdict (its refusal is dropped). */
	private const STAND_IN_SECRET = 'wpf-bridge-tester-no-secret';

	/**
	 * The submitted inputs shown again in the form (never the secret), and the dry run's result.
	 *
	 * @var array|null
	 */
	private static ?array $submitted = null;

	/**
	 * The result of this request's dry run, or null when none was asked.
	 *
	 * @var array|null
	 */
	private static ?array $result = null;

	/**
	 * load-* of the settings page: runs the dry run when its form was posted (nonce and
	 * capability checked first). Does not redirect: the result is shown in this response only.
	 */
	public static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || self::ACTION !== ( $_POST['wpf_bridge_action'] ?? null ) ) { // phpcs:ignore WordPress.Security.NonceVerification -- checked below before anything is read.
			return;
		}
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage these settings.', 'wpf-bridge' ), 403 );
		}
		check_admin_referer( self::NONCE_ACTION, self::NONCE_FIELD );

		// phpcs:disable WordPress.Security.ValidatedSanitizedInput -- raw on purpose: the body, headers, mapping and secret are read byte for byte by the extension and only printed escaped.
		$input = array(
			'preset'  => isset( $_POST['wpf_bridge_tester_preset'] ) && is_string( $_POST['wpf_bridge_tester_preset'] ) ? sanitize_key( wp_unslash( $_POST['wpf_bridge_tester_preset'] ) ) : self::CUSTOM,
			'action'  => isset( $_POST['wpf_bridge_tester_action'] ) && is_string( $_POST['wpf_bridge_tester_action'] ) ? sanitize_key( wp_unslash( $_POST['wpf_bridge_tester_action'] ) ) : 'update',
			'mapping' => isset( $_POST['wpf_bridge_tester_mapping'] ) && is_string( $_POST['wpf_bridge_tester_mapping'] ) ? self::lf( wp_unslash( $_POST['wpf_bridge_tester_mapping'] ) ) : '',
			'body'    => isset( $_POST['wpf_bridge_tester_body'] ) && is_string( $_POST['wpf_bridge_tester_body'] ) ? self::lf( wp_unslash( $_POST['wpf_bridge_tester_body'] ) ) : '',
			'headers' => isset( $_POST['wpf_bridge_tester_headers'] ) && is_string( $_POST['wpf_bridge_tester_headers'] ) ? self::lf( wp_unslash( $_POST['wpf_bridge_tester_headers'] ) ) : '',
		);
		$secret = isset( $_POST['wpf_bridge_tester_secret'] ) && is_string( $_POST['wpf_bridge_tester_secret'] ) ? wp_unslash( $_POST['wpf_bridge_tester_secret'] ) : '';
		// phpcs:enable

		self::$submitted = $input;
		self::$result    = self::run( $input, $secret );
	}

	/**
	 * A textarea's text with the browser's CRLF line ends back to the LF the field showed.
	 *
	 * @param string $text Submitted text.
	 */
	private static function lf( string $text ): string {
		return str_replace( "\r\n", "\n", $text );
	}

	/**
	 * What the template prints: the presets to choose from, the actions, the inputs to show
	 * again, the bounds, and the result (null before a run).
	 */
	public static function view(): array {
		$loaded  = WPF_Bridge_Extension::loaded() && function_exists( 'wpf_bridge_parse_webhook' ) && function_exists( 'wpf_bridge_presets' );
		$presets = array();
		if ( $loaded ) {
			foreach ( self::presets() as $slug => $preset ) {
				$presets[ (string) $slug ] = is_array( $preset ) && isset( $preset['name'] ) ? (string) $preset['name'] : (string) $slug;
			}
		}
		return array(
			'loaded'         => $loaded,
			'presets'        => $presets,
			'actions'        => self::ACTIONS,
			'input'          => self::$submitted ?? array(
				'preset'  => self::CUSTOM,
				'action'  => 'update',
				'mapping' => '',
				'body'    => '',
				'headers' => '',
			),
			'max_body_bytes' => self::max_body_bytes(),
			'result'         => self::$result,
		);
	}

	/**
	 * The presets the extension ships, slug => preset.
	 */
	private static function presets(): array {
		try {
			return (array) wpf_bridge_presets();
		} catch ( \Throwable $e ) {
			return array();
		}
	}

	/** The largest body a webhook may have on this site (the max_body_bytes setting). */
	private static function max_body_bytes(): int {
		return (int) ( WPF_Bridge_Settings::effective()['max_body_bytes'] ?? 0 );
	}

	/**
	 * The dry run: reads the body with the chosen mapping. Returns `error` (a message, or null),
	 * `code` (the extension's error code, or ''), `signature` (`state`: verified, refused,
	 * unchecked or none; `message`), `events` and `ignored` as the extension returned them.
	 *
	 * @param array  $input  The submitted preset, action, mapping, body and headers.
	 * @param string $secret The signing secret typed, or ''.
	 */
	private static function run( array $input, string $secret ): array {
		$result = array(
			'error'     => null,
			'code'      => '',
			'signature' => null,
			'events'    => array(),
			'ignored'   => array(),
		);
		if ( ! function_exists( 'wpf_bridge_parse_webhook' ) || ! function_exists( 'wpf_bridge_presets' ) ) {
			$result['error'] = __( 'The wpf_bridge extension is not loaded: nothing can be tested.', 'wpf-bridge' );
			return $result;
		}

		$refusal = self::bounds( $input, $secret );
		if ( null !== $refusal ) {
			$result['error'] = $refusal;
			return $result;
		}
		$headers = self::headers( $input['headers'] );
		if ( is_string( $headers ) ) {
			$result['error'] = $headers;
			return $result;
		}
		if ( ! in_array( $input['action'], self::ACTIONS, true ) ) {
			$result['error'] = __( 'Choose the action of the webhook URL: update, update_tags or add.', 'wpf-bridge' );
			return $result;
		}

		// The mapping: a preset's (by slug, or its array when a secret is added) or the pasted one.
		if ( self::CUSTOM === $input['preset'] ) {
			$mapping = json_decode( $input['mapping'], true, 128 );
			if ( ! is_array( $mapping ) || ( array() !== $mapping && array_is_list( $mapping ) ) ) {
				/* translators: %s: the JSON parser's message */
				$result['error'] = sprintf( __( 'The mapping is not a JSON object: %s', 'wpf-bridge' ), JSON_ERROR_NONE === json_last_error() ? __( 'paste an object, {...}', 'wpf-bridge' ) : json_last_error_msg() );
				return $result;
			}
			$unsigned = $mapping;
			unset( $unsigned['signature'] );
		} else {
			$presets = self::presets();
			if ( ! isset( $presets[ $input['preset'] ]['mapping'] ) || ! is_array( $presets[ $input['preset'] ]['mapping'] ) ) {
				$result['error'] = __( 'Choose one of the presets, or a custom mapping.', 'wpf-bridge' );
				return $result;
			}
			$mapping  = $presets[ $input['preset'] ]['mapping'];
			$unsigned = $input['preset'];
		}

		$request = array(
			'method'  => 'POST',
			'query'   => array( 'wpf_action' => $input['action'] ),
			'post'    => array(),
			'headers' => $headers,
			'body'    => $input['body'],
		);

		try {
			$signature = $mapping['signature'] ?? null;
			if ( is_array( $signature ) ) {
				if ( '' !== $secret ) {
					$signature['secret'] = $secret;
				}
				if ( isset( $signature['secret'] ) && '' !== $signature['secret'] ) {
					$mapping['signature'] = $signature;
					try {
						$parsed              = wpf_bridge_parse_webhook( $mapping, $request );
						$result['signature'] = ! empty( $parsed['signed'] )
							? array( 'verified', __( 'Verified: the body is signed with this secret.', 'wpf-bridge' ) )
							: array( 'unchecked', __( 'Not checked.', 'wpf-bridge' ) );
					} catch ( \WpfBridge\AuthenticationException $e ) {
						// Refused: say why, and still show what the mapping reads of the body.
						$result['signature'] = array( 'refused', $e->getMessage() );
						$parsed              = wpf_bridge_parse_webhook( $unsigned, $request );
					}
				} else {
					if ( self::CUSTOM === $input['preset'] ) {
						// The pasted signature section is still validated (its errors name their
						// pointers): with a stand-in secret, whose refusal is expected and dropped.
						$mapping['signature'] = array( 'secret' => self::STAND_IN_SECRET ) + $signature;
						try {
							wpf_bridge_parse_webhook( $mapping, $request );
						} catch ( \WpfBridge\AuthenticationException $e ) {
							unset( $e );
						}
					}
					$result['signature'] = array( 'unchecked', __( 'Not checked: type the signing secret to check the signature.', 'wpf-bridge' ) );
					$parsed              = wpf_bridge_parse_webhook( $unsigned, $request );
				}
			} else {
				$result['signature'] = array(
					'none',
					'' !== $secret
						? __( 'This mapping has no signature section: the secret was not used.', 'wpf-bridge' )
						: __( 'This mapping checks no signature.', 'wpf-bridge' ),
				);
				$parsed = wpf_bridge_parse_webhook( self::CUSTOM === $input['preset'] ? $mapping : $input['preset'], $request );
			}
		} catch ( \WpfBridge\Exception $e ) {
			// The extension's messages name the field or pointer and never hold a secret or a value.
			$result['error']     = $e->getMessage();
			$result['code']      = (string) $e->errorCode;
			$result['signature'] = null;
			return $result;
		} catch ( \Throwable $e ) {
			$result['error']     = get_class( $e );
			$result['signature'] = null;
			return $result;
		}

		$result['events']  = is_array( $parsed['events'] ?? null ) ? $parsed['events'] : array();
		$result['ignored'] = is_array( $parsed['ignored'] ?? null ) ? $parsed['ignored'] : array();
		return $result;
	}

	/**
	 * Why the inputs are too big to read, or null: the body as a webhook's (max_body_bytes), the
	 * mapping, headers and secret by this form's bounds.
	 *
	 * @param array  $input  The submitted inputs.
	 * @param string $secret The secret typed.
	 */
	private static function bounds( array $input, string $secret ): ?string {
		$max_body = self::max_body_bytes();
		if ( $max_body > 0 && strlen( $input['body'] ) > $max_body ) {
			/* translators: 1: the body's size in bytes, 2: the largest webhook body in bytes */
			return sprintf( __( 'The body is %1$s bytes: a webhook body may have at most %2$s (the "Largest webhook body" setting).', 'wpf-bridge' ), number_format_i18n( strlen( $input['body'] ) ), number_format_i18n( $max_body ) );
		}
		$limits = array(
			array( $input['mapping'], self::MAX_MAPPING_BYTES, __( 'The mapping', 'wpf-bridge' ) ),
			array( $input['headers'], self::MAX_HEADER_BYTES, __( 'The headers', 'wpf-bridge' ) ),
			array( $secret, self::MAX_SECRET_BYTES, __( 'The secret', 'wpf-bridge' ) ),
		);
		foreach ( $limits as list( $text, $max, $what ) ) {
			if ( strlen( $text ) > $max ) {
				/* translators: 1: what is too long, 2: the limit in bytes */
				return sprintf( __( '%1$s may have at most %2$s bytes.', 'wpf-bridge' ), $what, number_format_i18n( $max ) );
			}
		}
		return null;
	}

	/**
	 * The pasted headers, one `Name: value` a line, as name => value; or why they cannot be read.
	 *
	 * @param string $text The pasted lines.
	 * @return array<string, string>|string
	 */
	private static function headers( string $text ) {
		$headers = array();
		$lines   = preg_split( '/\n/', $text );
		$count   = 0;
		foreach ( (array) $lines as $number => $line ) {
			$line = rtrim( (string) $line, "\r" );
			if ( '' === trim( $line ) ) {
				continue;
			}
			if ( ++$count > self::MAX_HEADER_LINES ) {
				/* translators: %d: the most header lines */
				return sprintf( __( 'At most %d header lines.', 'wpf-bridge' ), self::MAX_HEADER_LINES );
			}
			$colon = strpos( $line, ':' );
			$name  = false === $colon ? '' : trim( substr( $line, 0, $colon ) );
			if ( '' === $name || ! preg_match( '/^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$/', $name ) ) {
				/* translators: %d: line number */
				return sprintf( __( 'Header line %d is not "Name: value".', 'wpf-bridge' ), $number + 1 );
			}
			$headers[ $name ] = trim( substr( $line, $colon + 1 ) );
		}
		return $headers;
	}
}
