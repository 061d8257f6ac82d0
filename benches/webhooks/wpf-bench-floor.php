<?php
/**
 * Plugin Name: wpf-bridge benchmark floors
 * Description: Installed by scripts/bench-webhooks.sh into its own bench site only. The floors
 * the accept path is measured against: `?wpf_floor=mu` answers at once from this must-use
 * plugin (WordPress has loaded its core, the options and the other must-use plugins before
 * it), `?wpf_floor=init` answers on `init` (every plugin and the theme loaded, as a plugin
 * answering webhooks on init does). Both answer a tiny JSON 200 and exit.
 */

defined( 'ABSPATH' ) || exit;

function wpf_bench_floor_answer(): void {
	header( 'Content-Type: application/json; charset=utf-8' );
	echo '{"success":true}';
	exit;
}

// phpcs:ignore WordPress.Security.NonceVerification -- benchmark only, nothing is changed.
$wpf_bench_floor = isset( $_GET['wpf_floor'] ) && is_string( $_GET['wpf_floor'] ) ? $_GET['wpf_floor'] : '';
if ( 'mu' === $wpf_bench_floor ) {
	wpf_bench_floor_answer();
} elseif ( 'init' === $wpf_bench_floor ) {
	add_action( 'init', 'wpf_bench_floor_answer', 1 );
}
unset( $wpf_bench_floor );
