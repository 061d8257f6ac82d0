<?php
/**
 * Site Health test (Tools > Site Health): is the extension loaded, is it the version this
 * plugin was written for, are the saved settings valid, and, when argon2id passwords are on,
 * do they take effect (WPF_Bridge_Passwords::problem()).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The `wpf_bridge` direct test.
 */
final class WPF_Bridge_Site_Health {

	/** Test id. */
	public const TEST = 'wpf_bridge';

	/**
	 * site_status_tests: registers the direct test.
	 *
	 * @param array $tests Tests by type.
	 */
	public static function register( $tests ): array {
		$tests                            = (array) $tests;
		$tests['direct'][ self::TEST ] = array(
			'label' => __( 'WPF Bridge', 'wpf-bridge' ),
			'test'  => array( self::class, 'run' ),
		);
		return $tests;
	}

	/**
	 * Runs the test.
	 */
	public static function run(): array {
		$problems = array();
		$status   = 'good';

		if ( ! WPF_Bridge_Extension::loaded() ) {
			$status     = 'critical';
			$problems[] = __( 'The wpf_bridge PHP extension is not loaded: CRM webhooks are answered with HTTP 503.', 'wpf-bridge' );
		} else {
			if ( ! WPF_Bridge_Extension::version_matches() ) {
				$status     = 'critical';
				$problems[] = sprintf(
					/* translators: 1: extension version, 2: plugin version */
					__( 'The wpf_bridge extension is version %1$s but the plugin is version %2$s.', 'wpf-bridge' ),
					(string) WPF_Bridge_Extension::version(),
					WPF_BRIDGE_PLUGIN_VERSION
				);
			}
			$error = WPF_Bridge_Settings::validation_error( WPF_Bridge_Settings::effective() );
			if ( null !== $error ) {
				$status = 'critical';
				/* translators: %s: the extension's validation message */
				$problems[] = sprintf( __( 'The settings are invalid: %s', 'wpf-bridge' ), $error );
			}
		}

		$password_problem = WPF_Bridge_Passwords::problem();
		if ( null !== $password_problem ) {
			if ( 'good' === $status ) {
				$status = 'recommended';
			}
			$problems[] = $password_problem;
		}

		if ( 'good' === $status ) {
			$label       = __( 'WPF Bridge is ready to answer CRM webhooks', 'wpf-bridge' );
			$description = sprintf(
				/* translators: %s: version */
				__( 'The wpf_bridge extension %s is loaded and the settings are valid.', 'wpf-bridge' ),
				(string) WPF_Bridge_Extension::version()
			);
		} else {
			$label       = 'critical' === $status
				? __( 'WPF Bridge cannot answer CRM webhooks', 'wpf-bridge' )
				: __( 'WPF Bridge needs attention', 'wpf-bridge' );
			$description = implode( ' ', $problems );
		}

		return array(
			'label'       => $label,
			'status'      => $status,
			'badge'       => array(
				'label' => __( 'WPF Bridge', 'wpf-bridge' ),
				'color' => 'good' === $status ? 'blue' : 'red',
			),
			'description' => '<p>' . esc_html( $description ) . '</p>',
			'actions'     => sprintf(
				'<p><a href="%s">%s</a> | <a href="%s">%s</a></p>',
				esc_url( WPF_Bridge_Settings_Page::url() ),
				esc_html__( 'WPF Bridge settings', 'wpf-bridge' ),
				esc_url( WPF_Bridge_Extension::readme_url() ),
				esc_html__( 'Installing the extension', 'wpf-bridge' )
			),
			'test'        => self::TEST,
		);
	}
}
