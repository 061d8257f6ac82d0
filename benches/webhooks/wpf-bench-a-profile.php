<?php
/**
 * Plugin Name: wpf-bridge benchmark profile
 * Description: Installed by benches/webhooks/bench.php for its `profile` part only, into its
 * own bench site, and removed after it. Must-use plugins load in name order, so this one
 * loads before the floors' (wpf-bench-floor.php) and the webhook loader
 * (wpf-bridge-loader.php) and sees both paths from there on. While the file
 * wp-content/wpf-bench-profile.out exists, every request carrying wpf_action or wpf_floor
 * appends one JSON line to it: the wall time from the request's start to the must-use plugins
 * and to its end (shutdown), every SQL statement from here on with its start and duration
 * (the `query` filter and SAVEQUERIES; the statements before, WordPress's own, are counted),
 * the PHP files included from here on, opcache's settings and the peak memory.
 */

defined( 'ABSPATH' ) || exit;

// phpcs:ignore WordPress.Security.NonceVerification -- benchmark only, nothing is changed.
if ( ( isset( $_GET['wpf_action'] ) || isset( $_GET['wpf_floor'] ) ) && is_file( WP_CONTENT_DIR . '/wpf-bench-profile.out' ) ) {
	( static function (): void {
		global $wpdb;
		$start    = (float) $_SERVER['REQUEST_TIME_FLOAT'];
		$mu       = microtime( true );
		$before   = get_included_files();
		$queries0 = (int) $wpdb->num_queries;
		$starts   = array();
		if ( ! defined( 'SAVEQUERIES' ) ) {
			define( 'SAVEQUERIES', true );
		}
		add_filter(
			'query',
			static function ( $sql ) use ( &$starts ) {
				$starts[] = microtime( true );
				return $sql;
			}
		);
		register_shutdown_function(
			static function () use ( $start, $mu, $before, $queries0, &$starts, $wpdb ): void {
				$end     = microtime( true );
				$queries = array();
				foreach ( (array) $wpdb->queries as $i => $query ) {
					$queries[] = array(
						'at_ms' => isset( $starts[ $i ] ) ? round( 1000 * ( $starts[ $i ] - $start ), 3 ) : null,
						'ms'    => round( 1000 * (float) $query[1], 3 ),
						'sql'   => preg_replace( '/\s+/', ' ', substr( (string) $query[0], 0, 200 ) ),
					);
				}
				$line = array(
					'status'         => http_response_code(),
					'mu_ms'          => round( 1000 * ( $mu - $start ), 3 ),
					'end_ms'         => round( 1000 * ( $end - $start ), 3 ),
					'queries_before' => $queries0,
					'queries'        => $queries,
					'included_after' => array_values( array_diff( get_included_files(), $before ) ),
					'included_total' => count( get_included_files() ),
					'opcache'        => array(
						'enabled'             => function_exists( 'opcache_get_status' ) && is_array( opcache_get_status( false ) ),
						'validate_timestamps' => ini_get( 'opcache.validate_timestamps' ),
						'revalidate_freq'     => ini_get( 'opcache.revalidate_freq' ),
					),
					'peak_kib'       => intdiv( memory_get_peak_usage(), 1024 ),
				);
				file_put_contents( WP_CONTENT_DIR . '/wpf-bench-profile.out', wp_json_encode( $line ) . "\n", FILE_APPEND | LOCK_EX ); // phpcs:ignore WordPress.WP.AlternativeFunctions
			}
		);
	} )();
}
