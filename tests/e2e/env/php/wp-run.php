<?php
/**
 * Runs PHP inside WordPress from the command line, for tests/e2e/env/wp.sh.
 *
 *   php wp-run.php code 'echo get_option("siteurl");'
 *   php wp-run.php file /path/to/script.php [args...]   ($argv holds the path and args)
 *
 * Reads WPF_E2E_WP_DIR and WPF_E2E_URL from the environment (wp.sh sources env.sh),
 * fakes the request variables WordPress expects, loads wp-load.php at the top level
 * (WordPress needs its globals), optionally logs in WPF_E2E_WP_USER, then runs the code.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}

$wpf_e2e_mode = $argv[1] ?? '';
$wpf_e2e_arg  = $argv[2] ?? '';
$wpf_e2e_url  = parse_url( (string) getenv( 'WPF_E2E_URL' ) );
if ( ! in_array( $wpf_e2e_mode, array( 'code', 'file' ), true ) || empty( $wpf_e2e_url['host'] ) ) {
	fwrite( STDERR, "usage: wp-run.php code CODE | file PATH [ARGS...] (with WPF_E2E_URL and WPF_E2E_WP_DIR set)\n" );
	exit( 2 );
}

$_SERVER['HTTP_HOST']       = $wpf_e2e_url['host'] . ( isset( $wpf_e2e_url['port'] ) ? ':' . $wpf_e2e_url['port'] : '' );
$_SERVER['SERVER_NAME']     = $wpf_e2e_url['host'];
$_SERVER['SERVER_PORT']     = (string) ( $wpf_e2e_url['port'] ?? 80 );
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';

require getenv( 'WPF_E2E_WP_DIR' ) . '/wp-load.php';

if ( getenv( 'WPF_E2E_WP_USER' ) ) {
	$wpf_e2e_user = get_user_by( 'login', getenv( 'WPF_E2E_WP_USER' ) );
	if ( ! $wpf_e2e_user ) {
		fwrite( STDERR, 'wp-run.php: no user with login ' . getenv( 'WPF_E2E_WP_USER' ) . "\n" );
		exit( 2 );
	}
	wp_set_current_user( $wpf_e2e_user->ID );
	unset( $wpf_e2e_user );
}

$argv = array_slice( $argv, 2 );
$argc = count( $argv );

if ( 'file' === $wpf_e2e_mode ) {
	unset( $wpf_e2e_mode, $wpf_e2e_url );
	require $wpf_e2e_arg;
} else {
	$wpf_e2e_arg = preg_replace( '/^\s*<\?php\b/', '', $wpf_e2e_arg );
	unset( $wpf_e2e_mode, $wpf_e2e_url );
	eval( $wpf_e2e_arg );
}
