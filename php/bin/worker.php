<?php
/**
 * The queue worker for system cron and the command line:
 *
 *   php wp-content/plugins/wpf-bridge/bin/worker.php [run|status|retry|discard] [OPTIONS]
 *   * * * * * www-data php /var/www/html/wp-content/plugins/wpf-bridge/bin/worker.php run --budget=50
 *
 * Loads WordPress (found above this file, or --path=WP_ROOT; --url=SITE_URL picks a site of a
 * network), then runs the same code as `wp wpf-bridge queue` (WPF_Bridge_CLI). Exits 0 when
 * done, 1 when the command failed (plugin inactive, extension missing, database error), 2 on
 * bad arguments. Refuses to run over HTTP: this file sits in a web-served folder.
 *
 * @package WPF_Bridge
 */

if ( 'cli' !== PHP_SAPI ) {
	http_response_code( 404 );
	exit;
}

/**
 * Splits argv into positional arguments and `--name[=value]` options.
 *
 * @param string[] $argv Arguments after the script name.
 * @return array{0: string[], 1: array<string, string>}
 */
function wpf_bridge_worker_parse( array $argv ): array {
	$args  = array();
	$assoc = array();
	foreach ( $argv as $arg ) {
		if ( str_starts_with( $arg, '--' ) ) {
			$pair              = explode( '=', substr( $arg, 2 ), 2 );
			$assoc[ $pair[0] ] = $pair[1] ?? '';
		} else {
			$args[] = $arg;
		}
	}
	return array( $args, $assoc );
}

/**
 * The WordPress root: --path, else the first folder above this script holding wp-load.php
 * (from the path as typed, so a symlinked plugin folder still finds its site).
 */
function wpf_bridge_worker_root( ?string $path ): ?string {
	if ( null !== $path ) {
		return is_file( rtrim( $path, '/' ) . '/wp-load.php' ) ? rtrim( $path, '/' ) : null;
	}
	$typed = dirname( (string) ( $_SERVER['SCRIPT_FILENAME'] ?? __FILE__ ) );
	if ( ! str_starts_with( $typed, '/' ) ) {
		$typed = getcwd() . '/' . $typed;
	}
	foreach ( array( $typed, __DIR__ ) as $dir ) {
		for ( ; strlen( $dir ) > 1; $dir = dirname( $dir ) ) {
			if ( is_file( $dir . '/wp-load.php' ) ) {
				return $dir;
			}
		}
	}
	return null;
}

list( $wpf_bridge_args, $wpf_bridge_assoc ) = wpf_bridge_worker_parse( array_slice( $argv, 1 ) );
$wpf_bridge_root = wpf_bridge_worker_root( $wpf_bridge_assoc['path'] ?? null );
if ( null === $wpf_bridge_root ) {
	fwrite( STDERR, "error: WordPress not found above this file; give --path=WP_ROOT\n" );
	exit( 1 );
}
if ( isset( $wpf_bridge_assoc['url'] ) ) {
	$wpf_bridge_url            = parse_url( $wpf_bridge_assoc['url'] );
	$_SERVER['HTTP_HOST']      = ( $wpf_bridge_url['host'] ?? '' ) . ( isset( $wpf_bridge_url['port'] ) ? ':' . $wpf_bridge_url['port'] : '' );
	$_SERVER['REQUEST_URI']    = $wpf_bridge_url['path'] ?? '/';
	$_SERVER['HTTPS']          = 'https' === ( $wpf_bridge_url['scheme'] ?? '' ) ? 'on' : '';
}
unset( $wpf_bridge_assoc['path'], $wpf_bridge_assoc['url'] );

require $wpf_bridge_root . '/wp-load.php';

if ( ! class_exists( 'WPF_Bridge_CLI' ) ) {
	fwrite( STDERR, "error: the WPF Bridge plugin is not active on this site\n" );
	exit( 1 );
}
exit(
	WPF_Bridge_CLI::run(
		$wpf_bridge_args,
		$wpf_bridge_assoc,
		static function ( string $line ): void {
			fwrite( STDOUT, $line . "\n" );
		},
		static function ( string $line ): void {
			fwrite( STDERR, $line . "\n" );
		}
	)
);
