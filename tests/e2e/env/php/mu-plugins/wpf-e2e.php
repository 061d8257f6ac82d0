<?php
/**
 * Plugin Name: wpf-bridge e2e environment
 * Description: Test environment only (installed by tests/e2e/env/up.sh). Captures every
 * wp_mail() call as a JSON file in WPF_E2E_MAIL_DIR instead of sending it, and lets
 * WordPress's safe HTTP API reach the loopback fake CRM port, and sums the queue's drain
 * reports for the tests.
 */

defined( 'ABSPATH' ) || exit;

/**
 * pre_wp_mail (WordPress 5.7+) short-circuits wp_mail() after its 'wp_mail' filter ran,
 * so the record holds what the site asked to send. One file per mail, named
 * <UTC time with microseconds>-<pid>-<random>.json so that a sort gives the sending order;
 * written to a hidden temp file and renamed, so readers never see half a mail.
 */
function wpf_e2e_capture_mail( $short_circuit, $atts ) {
	if ( null !== $short_circuit ) {
		return $short_circuit;
	}

	$to = $atts['to'] ?? array();
	if ( ! is_array( $to ) ) {
		$to = explode( ',', (string) $to );
	}
	$to = array_values( array_filter( array_map( 'trim', $to ), 'strlen' ) );

	$headers = $atts['headers'] ?? array();
	if ( ! is_array( $headers ) ) {
		$headers = explode( "\n", str_replace( "\r\n", "\n", (string) $headers ) );
	}
	$headers = array_values( array_filter( array_map( 'trim', $headers ), 'strlen' ) );

	$from         = null;
	$content_type = null;
	foreach ( $headers as $header ) {
		if ( preg_match( '/^from:\s*(.+)$/i', $header, $m ) ) {
			$from = $m[1];
		} elseif ( preg_match( '/^content-type:\s*([^;]+)/i', $header, $m ) ) {
			$content_type = trim( $m[1] );
		}
	}
	if ( null === $from ) {
		$host = strtolower( (string) wp_parse_url( network_home_url(), PHP_URL_HOST ) );
		$host = preg_replace( '/^www\./', '', $host );
		$from = apply_filters( 'wp_mail_from_name', 'WordPress' ) . ' <' . apply_filters( 'wp_mail_from', 'wordpress@' . $host ) . '>';
	}
	if ( null === $content_type ) {
		$content_type = apply_filters( 'wp_mail_content_type', 'text/plain' );
	}

	$now    = microtime( true );
	$record = array(
		'time'         => gmdate( 'Y-m-d\TH:i:s', (int) $now ) . sprintf( '.%06dZ', (int) ( ( $now - floor( $now ) ) * 1e6 ) ),
		'to'           => $to,
		'from'         => $from,
		'subject'      => (string) ( $atts['subject'] ?? '' ),
		'message'      => (string) ( $atts['message'] ?? '' ),
		'content_type' => $content_type,
		'headers'      => $headers,
		'attachments'  => array_values( (array) ( $atts['attachments'] ?? array() ) ),
		// The access key rides in webhook URLs: keep it out of the captured mail.
		'request'      => PHP_SAPI === 'cli' ? 'cli' : ( $_SERVER['REQUEST_METHOD'] ?? '' ) . ' ' . preg_replace( '/(access_key=)[^&]*/', '$1***', (string) ( $_SERVER['REQUEST_URI'] ?? '' ) ),
	);

	$dir  = defined( 'WPF_E2E_MAIL_DIR' ) ? WPF_E2E_MAIL_DIR : WP_CONTENT_DIR . '/e2e-mail';
	$name = sprintf( '%s-%06d-%d-%s.json', gmdate( 'Ymd\THis', (int) $now ), (int) ( ( $now - floor( $now ) ) * 1e6 ), getmypid(), bin2hex( random_bytes( 3 ) ) );
	$json = wp_json_encode( $record, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
	$tmp  = $dir . '/.' . $name . '.tmp';

	if ( ! wp_mkdir_p( $dir ) || false === $json || false === file_put_contents( $tmp, $json . "\n" ) || ! rename( $tmp, $dir . '/' . $name ) ) {
		do_action( 'wp_mail_failed', new WP_Error( 'wp_mail_failed', 'e2e mail capture could not write to ' . $dir, $atts ) );
		return false;
	}

	do_action( 'wp_mail_succeeded', $atts );
	return true;
}
add_filter( 'pre_wp_mail', 'wpf_e2e_capture_mail', 10, 2 );

/** wp_safe_remote_*() only allows ports 80, 443 and 8080 by default. */
function wpf_e2e_allow_crm_port( $ports ) {
	if ( defined( 'WPF_E2E_CRM_PORT' ) ) {
		$ports[] = (int) WPF_E2E_CRM_PORT;
	}
	return $ports;
}
add_filter( 'http_allowed_safe_ports', 'wpf_e2e_allow_crm_port' );

/**
 * No update checks: the site has no internet (WP_HTTP_BLOCK_EXTERNAL), and every failed
 * check against api.wordpress.org logs a PHP warning in wp-debug.log on admin pages.
 */
function wpf_e2e_disable_update_checks() {
	$hooks = array(
		'admin_init'           => array( '_maybe_update_core', '_maybe_update_plugins', '_maybe_update_themes' ),
		'wp_version_check'     => array( 'wp_version_check' ),
		'wp_update_plugins'    => array( 'wp_update_plugins' ),
		'wp_update_themes'     => array( 'wp_update_themes' ),
		'load-plugins.php'     => array( 'wp_update_plugins' ),
		'load-themes.php'      => array( 'wp_update_themes' ),
		'load-update.php'      => array( 'wp_update_plugins', 'wp_update_themes' ),
		'load-update-core.php' => array( 'wp_update_plugins', 'wp_update_themes' ),
		'wp_maybe_auto_update' => array( 'wp_maybe_auto_update' ),
		'init'                 => array( 'wp_schedule_update_checks' ),
	);
	foreach ( $hooks as $hook => $callbacks ) {
		foreach ( $callbacks as $callback ) {
			remove_action( $hook, $callback );
		}
	}
}
wpf_e2e_disable_update_checks();

/** Settings > General lists the installable languages from api.wordpress.org: none here. */
add_filter(
	'translations_api',
	static function ( $result ) {
		return false === $result ? array( 'translations' => array() ) : $result;
	}
);

/**
 * Sums of the queue's drain reports (the `wpf_bridge_drained` action fires after every
 * drain with `contacts`, `applies`, `done`, `retrying`, `failed`, `busy`), so a test can
 * count the applies a storm cost across every PHP process and server. One atomic upsert per
 * drain into the options table (`wpf_e2e_drained_<key>`, plus `wpf_e2e_drained_drains`),
 * read and reset with SQL; never autoloaded.
 */
function wpf_e2e_count_drain( $report ) {
	global $wpdb;
	// Which kind of process drained: a web request (php-fpm) or the command line.
	$sums = array( 'drains' => 1, 'cli' === PHP_SAPI ? 'drains_cli' : 'drains_web' => 1 );
	foreach ( array( 'contacts', 'applies', 'done', 'retrying', 'failed', 'busy' ) as $key ) {
		$sums[ $key ] = is_array( $report ) && isset( $report[ $key ] ) ? max( 0, (int) $report[ $key ] ) : 0;
	}
	$rows = array();
	foreach ( $sums as $key => $value ) {
		$rows[] = $wpdb->prepare( "(%s, %s, 'no')", 'wpf_e2e_drained_' . $key, (string) $value );
	}
	$wpdb->query( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES " . implode( ', ', $rows ) . ' ON DUPLICATE KEY UPDATE option_value = CAST(option_value AS UNSIGNED) + CAST(VALUES(option_value) AS UNSIGNED)' ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared rows.
	// The highest PHP memory peak of any draining process (what PHP's memory_limit counts).
	$wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES ('wpf_e2e_drain_peak_bytes', %s, 'no') ON DUPLICATE KEY UPDATE option_value = GREATEST(CAST(option_value AS UNSIGNED), CAST(VALUES(option_value) AS UNSIGNED))", (string) memory_get_peak_usage() ) );
}
add_action( 'wpf_bridge_drained', 'wpf_e2e_count_drain' );
