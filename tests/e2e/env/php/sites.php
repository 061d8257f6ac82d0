<?php
/**
 * Creates the network's second site, /site2/, with the main site's theme (idempotent); run
 * through wp-run.php by up.sh with WPF_E2E_MULTISITE=1, once MULTISITE is on.
 */
if ( ! is_multisite() ) {
	fwrite( STDERR, "sites.php: not a multisite install\n" );
	exit( 1 );
}
$wpf_e2e_network = get_network();
$wpf_e2e_path    = $wpf_e2e_network->path . 'site2/';
$wpf_e2e_site    = get_site_by_path( $wpf_e2e_network->domain, $wpf_e2e_path );
if ( $wpf_e2e_site && $wpf_e2e_path === $wpf_e2e_site->path ) {
	echo "site2 exists (blog {$wpf_e2e_site->blog_id})\n";
	return;
}
$wpf_e2e_admin = get_user_by( 'login', getenv( 'WPF_E2E_ADMIN_USER' ) ?: 'admin' );
$wpf_e2e_id    = wp_insert_site(
	array(
		'domain'     => $wpf_e2e_network->domain,
		'path'       => $wpf_e2e_path,
		'network_id' => $wpf_e2e_network->id,
		'title'      => 'wpf-bridge e2e site2',
		'user_id'    => $wpf_e2e_admin->ID,
		'options'    => array(
			'template'   => get_option( 'template' ),
			'stylesheet' => get_option( 'stylesheet' ),
		),
	)
);
if ( is_wp_error( $wpf_e2e_id ) ) {
	fwrite( STDERR, 'sites.php: ' . $wpf_e2e_id->get_error_message() . "\n" );
	exit( 1 );
}
echo "site2 created (blog $wpf_e2e_id)\n";
