<?php
/**
 * What the admin pages share to render: templates (views/*.php, which only print what their
 * controller hands them), untrusted text cleaned of the bidirectional controls the extension
 * names, times as the site shows them, the setting ranges as help text, and the pages' assets.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Rendering helpers of the admin pages.
 */
final class WPF_Bridge_Admin_View {

	/**
	 * Prints a template of views/ with the controller's data.
	 *
	 * @param string $template File name without .php (a fixed name, never from a request).
	 * @param array  $view     The data the template prints; it sees it as $view.
	 */
	public static function render( string $template, array $view ): void {
		require __DIR__ . '/views/' . basename( $template ) . '.php';
	}

	/**
	 * admin_enqueue_scripts on the plugin's pages only: admin.css and admin.js.
	 */
	public static function enqueue_assets(): void {
		wp_enqueue_style( 'wpf-bridge-admin', plugins_url( 'assets/admin.css', WPF_BRIDGE_PLUGIN_FILE ), array(), WPF_BRIDGE_PLUGIN_VERSION );
		wp_enqueue_script( 'wpf-bridge-admin', plugins_url( 'assets/admin.js', WPF_BRIDGE_PLUGIN_FILE ), array(), WPF_BRIDGE_PLUGIN_VERSION, true );
	}

	/**
	 * Untrusted text with Unicode's bidirectional controls (the extension's set,
	 * `wpf_bridge_rules()['bidi_controls']`) replaced by U+FFFD, so a value cannot make the page
	 * show something else than what is stored. Escape it as well.
	 *
	 * @param string $text Untrusted text.
	 */
	public static function neutralise( string $text ): string {
		static $pattern = null;
		if ( null === $pattern ) {
			$ranges = '';
			foreach ( (array) ( WPF_Bridge_Extension::rules()['bidi_controls'] ?? array() ) as $pair ) {
				$ranges .= sprintf( '\x{%04X}-\x{%04X}', (int) $pair[0], (int) $pair[1] );
			}
			$pattern = '' === $ranges ? '' : '/[' . $ranges . ']/u';
		}
		return '' === $pattern ? $text : (string) preg_replace( $pattern, "\u{FFFD}", $text );
	}

	/**
	 * A time as the site shows dates, with how long ago or from now.
	 *
	 * @param int $time Unix seconds.
	 * @param int $now  The database's clock.
	 */
	public static function when( int $time, int $now ): string {
		if ( $time <= 0 ) {
			return '';
		}
		$date = (string) wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $time );
		if ( abs( $now - $time ) < 1 ) {
			return $date;
		}
		return sprintf(
			$time <= $now
				/* translators: 1: date and time, 2: a duration such as "5 mins" */
				? __( '%1$s (%2$s ago)', 'wpf-bridge' )
				/* translators: 1: date and time, 2: a duration such as "5 mins" */
				: __( '%1$s (in %2$s)', 'wpf-bridge' ),
			$date,
			human_time_diff( $time, $now )
		);
	}

	/**
	 * A whole-number setting's range and default as the extension enforces them
	 * (`wpf_bridge_rules()['ranges']`), as a sentence for its help text; empty without the rule.
	 *
	 * @param array  $rules The extension's rules.
	 * @param string $key   Setting key.
	 */
	public static function range( array $rules, string $key ): string {
		$range = $rules['ranges'][ $key ] ?? null;
		if ( ! is_array( $range ) ) {
			return '';
		}
		$units = array(
			/* translators: 1: smallest value, 2: largest value, 3: default */
			'seconds' => __( 'Between %1$s and %2$s seconds; the default is %3$s.', 'wpf-bridge' ),
			/* translators: 1: smallest value, 2: largest value, 3: default */
			'days'    => __( 'Between %1$s and %2$s days; the default is %3$s.', 'wpf-bridge' ),
			/* translators: 1: smallest value, 2: largest value, 3: default */
			'bytes'   => __( 'Between %1$s and %2$s bytes; the default is %3$s.', 'wpf-bridge' ),
			/* translators: 1: smallest value, 2: largest value, 3: default */
			''        => __( 'Between %1$s and %2$s; the default is %3$s.', 'wpf-bridge' ),
		);
		return sprintf(
			$units[ (string) $range['unit'] ] ?? $units[''],
			number_format_i18n( (int) $range['min'] ),
			number_format_i18n( (int) $range['max'] ),
			number_format_i18n( (int) $range['default'] )
		);
	}

	/**
	 * The retry delays' limits and default as a sentence, from the extension's rules.
	 *
	 * @param array $rules The extension's rules.
	 */
	public static function retry_delays_range( array $rules ): string {
		$limits = (array) ( $rules['retry_delays'] ?? array() );
		if ( ! isset( $limits['most'], $limits['min'], $limits['max'] ) ) {
			return '';
		}
		return sprintf(
			/* translators: 1: most delays, 2: shortest delay, 3: longest delay, 4: the default list */
			__( '1 to %1$d delays of %2$s to %3$s seconds; the default is %4$s.', 'wpf-bridge' ),
			(int) $limits['most'],
			number_format_i18n( (int) $limits['min'] ),
			number_format_i18n( (int) $limits['max'] ),
			implode( ', ', array_map( 'strval', (array) ( $rules['settings']['retry_delays'] ?? array() ) ) )
		);
	}
}
