<?php
/**
 * Site Health test (Tools > Site Health): is the extension loaded, is it the version this
 * plugin was written for, are the saved settings valid, is the webhook queue healthy (no
 * failed event, none waiting longer than the extension's `stale_after_seconds`), is the
 * must-use loader in place (WPF_Bridge_Loader::problem()), and, when argon2id passwords are
 * on, do they take effect (WPF_Bridge_Passwords::problem(): PHP, another plugin, the users
 * table), and is a resident worker that ran here still running
 * (WPF_Bridge_Resident_Worker::problem()). Each check adds its problems and raises the
 * status; the worst status wins.
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

	/** Failed events the last queue check found. */
	private static int $failed = 0;

	/**
	 * The webhook queue's problems: failed events (they wait for an administrator), and events
	 * waiting longer than the extension's rule allows (nothing drains the queue, or a contact
	 * keeps failing). Each sentence carries the counts.
	 *
	 * @return string[]
	 */
	private static function queue_problems(): array {
		$rules        = WPF_Bridge_Extension::rules();
		$stale_after  = (int) ( $rules['queue']['stale_after_seconds'] ?? 0 );
		self::$failed = 0;
		if ( $stale_after <= 0 ) {
			return array();
		}
		try {
			$summary = WPF_Bridge_Queue_Admin::summary();
		} catch ( \Throwable $e ) {
			return array( __( 'The webhook queue table cannot be read.', 'wpf-bridge' ) );
		}
		$problems     = array();
		$counts       = (array) $summary['counts'];
		self::$failed = (int) ( $counts['failed'] ?? 0 );
		if ( self::$failed > 0 ) {
			$problems[] = sprintf(
				/* translators: %d: number of events */
				_n( '%d webhook event failed and waits on the webhooks page for you to retry or discard it.', '%d webhook events failed and wait on the webhooks page for you to retry or discard them.', self::$failed, 'wpf-bridge' ),
				self::$failed
			);
		}
		$oldest = $summary['oldest_waiting_at'];
		if ( null !== $oldest && (int) $summary['now'] - (int) $oldest > $stale_after ) {
			$waiting = 0;
			foreach ( (array) ( $rules['queue']['waiting_states'] ?? array() ) as $state ) {
				$waiting += (int) ( $counts[ $state ] ?? 0 );
			}
			$problems[] = sprintf(
				/* translators: 1: number of events, 2: a duration such as "2 hours", 3: a duration such as "15 mins" */
				_n( '%1$d webhook event waits to be applied; the oldest was accepted %2$s ago, more than %3$s: the queue is not being drained (is WP-Cron or the worker running?) or its contact keeps failing.', '%1$d webhook events wait to be applied; the oldest was accepted %2$s ago, more than %3$s: the queue is not being drained (is WP-Cron or the worker running?) or its contact keeps failing.', $waiting, 'wpf-bridge' ),
				$waiting,
				human_time_diff( (int) $oldest, (int) $summary['now'] ),
				human_time_diff( 0, $stale_after )
			);
		}
		$full = self::queue_full( $rules );
		if ( null !== $full ) {
			$problems[] = sprintf(
				/* translators: %s: the extension's queue_full sentence */
				__( 'New webhooks are refused with HTTP 503 (queue_full) until the queue drains: %s', 'wpf-bridge' ),
				$full
			);
		}
		return $problems;
	}

	/**
	 * The extension's queue_full sentence when one more webhook would go over the caps
	 * (`max_waiting_events`, `max_waiting_bytes`), measured as webhooks measure it
	 * (WPF_Bridge_Queue::waiting_load()); null when there is room or it cannot be told.
	 *
	 * @param array $rules wpf_bridge_rules().
	 */
	private static function queue_full( array $rules ): ?string {
		if ( ! function_exists( 'wpf_bridge_queue_room' ) ) {
			return null;
		}
		try {
			$load = ( new WPF_Bridge_Queue() )->waiting_load( (int) ( $rules['queue']['load_max_age_seconds'] ?? 5 ) );
			return wpf_bridge_queue_room( WPF_Bridge_Settings::for_extension(), (int) $load['events'], (int) $load['bytes'] );
		} catch ( \Throwable $e ) {
			return null; // Bad settings are reported on their own.
		}
	}

	/**
	 * Runs the test.
	 */
	public static function run(): array {
		$problems   = array();
		$status     = 'good';
		$queue_only = false;

		if ( ! WPF_Bridge_Extension::loaded() ) {
			$status     = 'critical';
			$problems[] = __( 'The wpf_bridge PHP extension is not loaded: CRM webhooks are answered with HTTP 503.', 'wpf-bridge' );
			$problems[] = WPF_Bridge_Extension::runtime_mismatch() ?? WPF_Bridge_Extension::install_instruction();
		} else {
			if ( ! WPF_Bridge_Extension::version_matches() ) {
				$status     = 'critical';
				$problems[] = sprintf(
					/* translators: 1: extension version, 2: plugin version */
					__( 'The wpf_bridge extension is version %1$s but the plugin is version %2$s: CRM webhooks are answered with HTTP 503. Install both from the same release.', 'wpf-bridge' ),
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
			$queue_problems = self::queue_problems();
			if ( $queue_problems ) {
				$queue_only = 'critical' !== $status;
				$status     = 'critical';
				$problems = array_merge( $problems, $queue_problems );
			}
		}

		// Recommended, not critical: without the must-use loader webhooks are still accepted,
		// only later in the request (when the plugin itself loads); without the extension in
		// the command line's PHP, WP-Cron (the web server's PHP) still drains the queue.
		$runtime = WPF_Bridge_Extension::loaded() ? WPF_Bridge_Extension::runtime_mismatch() : null;
		foreach ( array( WPF_Bridge_Loader::problem(), WPF_Bridge_Passwords::problem(), $runtime, WPF_Bridge_Resident_Worker::problem() ) as $problem ) {
			if ( null !== $problem ) {
				if ( 'good' === $status ) {
					$status = 'recommended';
				}
				$problems[] = $problem;
			}
		}

		if ( 'good' === $status ) {
			$label       = __( 'WPF Bridge is ready to answer CRM webhooks', 'wpf-bridge' );
			$description = sprintf(
				/* translators: %s: version */
				__( 'The wpf_bridge extension %s is loaded, the settings are valid and the webhook queue is being applied.', 'wpf-bridge' ),
				(string) WPF_Bridge_Extension::version()
			) . ( null === WPF_Bridge_Resident_Worker::status_line() ? '' : ' ' . WPF_Bridge_Resident_Worker::status_line() );
		} else {
			if ( $queue_only ) {
				$label = __( 'WPF Bridge has webhook events that need attention', 'wpf-bridge' );
			} elseif ( 'critical' === $status ) {
				$label = __( 'WPF Bridge cannot answer CRM webhooks', 'wpf-bridge' );
			} else {
				$label = __( 'WPF Bridge needs attention', 'wpf-bridge' );
			}
			$description = implode( ' ', $problems );
		}

		$failed_view = (bool) self::$failed;
		return array(
			'label'       => $label,
			'status'      => $status,
			'badge'       => array(
				'label' => __( 'WPF Bridge', 'wpf-bridge' ),
				'color' => 'good' === $status ? 'blue' : 'red',
			),
			'description' => '<p>' . esc_html( $description ) . '</p>',
			'actions'     => sprintf(
				'<p><a href="%s">%s</a> | <a href="%s">%s</a> | <a href="%s">%s</a></p>',
				esc_url( WPF_Bridge_Webhooks_Page::url( array( 'state' => $failed_view ? 'failed' : '' ) ) ),
				esc_html__( 'WPF Bridge webhooks', 'wpf-bridge' ),
				esc_url( WPF_Bridge_Settings_Page::url() ),
				esc_html__( 'WPF Bridge settings', 'wpf-bridge' ),
				esc_url( WPF_Bridge_Extension::readme_url() ),
				esc_html__( 'Installing the extension', 'wpf-bridge' )
			),
			'test'        => self::TEST,
		);
	}
}
