<?php
/**
 * Activates the wpf-bridge plugin (network-wide on a multisite network); run through
 * wp-run.php (tests/e2e/env/wp.sh). Exits 1 with WordPress's error message when activation fails.
 */
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$wpf_e2e_plugin = 'wpf-bridge/wpf-bridge.php';
if ( is_multisite() ? is_plugin_active_for_network( $wpf_e2e_plugin ) : is_plugin_active( $wpf_e2e_plugin ) ) {
	echo "already active\n";
	return;
}
$wpf_e2e_result = activate_plugin( $wpf_e2e_plugin, '', is_multisite() );
if ( is_wp_error( $wpf_e2e_result ) ) {
	$wpf_e2e_data = $wpf_e2e_result->get_error_data();
	fwrite( STDERR, 'activation failed: ' . $wpf_e2e_result->get_error_message() . ( is_string( $wpf_e2e_data ) ? "\n" . $wpf_e2e_data : '' ) . "\n" );
	exit( 1 );
}
echo "activated\n";
