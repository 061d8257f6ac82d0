<?php
/**
 * Installs WordPress without the web installer, for tests/e2e/env/up.sh.
 * See /work/shared/reference/wordpress-on-debian.md #2: no HTTP requests to the site
 * itself, no new-blog email. Idempotent: an installed site only gets its admin password
 * checked (and reset to the one in WPF_E2E_ADMIN_PASSWORD_FILE if it drifted).
 *
 * Environment: WPF_E2E_WP_DIR, WPF_E2E_URL, WPF_E2E_ADMIN_USER, WPF_E2E_ADMIN_EMAIL,
 * WPF_E2E_ADMIN_PASSWORD_FILE.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
define( 'WP_INSTALLING', true );

$url                       = parse_url( (string) getenv( 'WPF_E2E_URL' ) );
$_SERVER['HTTP_HOST']      = $url['host'] . ( isset( $url['port'] ) ? ':' . $url['port'] : '' );
$_SERVER['SERVER_NAME']    = $url['host'];
$_SERVER['REQUEST_URI']    = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';

require getenv( 'WPF_E2E_WP_DIR' ) . '/wp-load.php';

// Pluggable in upgrade.php: defined first, so wp_install() sends no email.
function wp_new_blog_notification( $blog_title, $blog_url, $user_id, $password ) {}

require_once ABSPATH . 'wp-admin/includes/upgrade.php';

// wp_install() probes the site over HTTP (pretty permalinks): never reach out.
add_filter(
	'pre_http_request',
	static function () {
		return new WP_Error( 'wpf_e2e_no_http', 'HTTP requests are blocked while installing' );
	},
	1
);

$user     = getenv( 'WPF_E2E_ADMIN_USER' );
$password = trim( (string) file_get_contents( getenv( 'WPF_E2E_ADMIN_PASSWORD_FILE' ) ) );
if ( '' === $password ) {
	fwrite( STDERR, "install.php: empty admin password file\n" );
	exit( 1 );
}

if ( is_blog_installed() ) {
	$admin = get_user_by( 'login', $user );
	if ( ! $admin ) {
		fwrite( STDERR, "install.php: WordPress is installed but has no user '$user'; run up.sh --fresh\n" );
		exit( 1 );
	}
	if ( ! wp_check_password( $password, $admin->user_pass, $admin->ID ) ) {
		wp_set_password( $password, $admin->ID );
		echo "admin password reset to the one in the state dir\n";
	}
	echo "already installed\n";
	exit( 0 );
}

$result = wp_install( 'wpf-bridge e2e', $user, getenv( 'WPF_E2E_ADMIN_EMAIL' ), false, '', wp_slash( $password ), '' );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'install.php: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}

// Pretty permalinks (nginx's try_files serves them); webhooks use the query string anyway.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure( '/%postname%/' );
flush_rewrite_rules( false );

// wp_install() picks WP_DEFAULT_THEME; fall back to any installed theme.
if ( ! wp_get_theme()->exists() ) {
	$themes = wp_get_themes();
	if ( $themes ) {
		switch_theme( array_key_first( $themes ) );
	} else {
		fwrite( STDERR, "install.php: no theme installed (apt-get install wordpress-theme-twentytwentythree)\n" );
	}
}

echo 'installed, theme ' . get_stylesheet() . "\n";
