<?php
/**
 * Turns the single-site install into a subdirectory multisite network, as wp-admin/network.php
 * does (install_network() + populate_network()); run through wp-run.php by up.sh with
 * WPF_E2E_MULTISITE=1, before wp-config.php defines MULTISITE. The admin becomes the
 * network's super admin. up.sh then writes the MULTISITE constants into wp-config.php.
 */
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if ( is_multisite() ) {
	echo "already a network\n";
	return;
}
if ( ! defined( 'WP_INSTALLING_NETWORK' ) ) {
	define( 'WP_INSTALLING_NETWORK', true );
}
global $wpdb;
foreach ( $wpdb->tables( 'ms_global' ) as $wpf_e2e_table => $wpf_e2e_prefixed ) {
	$wpdb->$wpf_e2e_table = $wpf_e2e_prefixed;
}
install_network();
$wpf_e2e_admin  = get_user_by( 'login', getenv( 'WPF_E2E_ADMIN_USER' ) ?: 'admin' );
$wpf_e2e_url    = parse_url( (string) getenv( 'WPF_E2E_URL' ) );
$wpf_e2e_domain = $wpf_e2e_url['host'] . ( isset( $wpf_e2e_url['port'] ) ? ':' . $wpf_e2e_url['port'] : '' );
$wpf_e2e_result = populate_network( 1, $wpf_e2e_domain, $wpf_e2e_admin->user_email, 'wpf-bridge e2e network', '/', false );
if ( is_wp_error( $wpf_e2e_result ) && 'siteid_exists' !== $wpf_e2e_result->get_error_code() ) {
	fwrite( STDERR, 'network.php: ' . $wpf_e2e_result->get_error_message() . "\n" );
	exit( 1 );
}
echo "subdirectory network on $wpf_e2e_domain\n";
