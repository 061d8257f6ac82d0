<?php
/**
 * Uninstall: removes what the plugin stored for itself, on every site of a network.
 *
 * Removed: the options (wpf_bridge_settings, wpf_bridge_db_version,
 * wpf_bridge_wpf_key_notice_dismissed, wpf_bridge_queue_db_version, wpf_bridge_loader_version, wpf_bridge_runtimes),
 * the wpf_bridge_* transients, the queue's cron tick, the log and queue tables, and the
 * must-use loader (normally gone with the deactivation already).
 *
 * Kept on purpose: the users the webhooks created and their `{crm}_contact_id` and
 * `{crm}_tags` user meta (e.g. mautic_contact_id, mautic_tags). They are the site's data, not
 * the plugin's: the same keys WP Fusion uses, so memberships and other plugins that read the
 * tags keep working, and reinstalling either plugin finds the links to the CRM contacts.
 *
 * This file runs without the plugin loaded: it loads the few classes that name what it removes
 * (the tables with their version options, the tick's hook), so each name is written once.
 *
 * @package WPF_Bridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/includes/class-table.php';
require_once __DIR__ . '/includes/class-log.php';
require_once __DIR__ . '/includes/class-queue-schema.php';
require_once __DIR__ . '/includes/class-worker.php';

/**
 * Removes the plugin's options, transients, log, queue and refusal tables from the current site.
 */
function wpf_bridge_uninstall_site(): void {
	global $wpdb;

	delete_option( 'wpf_bridge_settings' );
	delete_option( 'wpf_bridge_wpf_key_notice_dismissed' );
	delete_option( 'wpf_bridge_loader_version' );
	delete_option( 'wpf_bridge_handover' );
	delete_option( 'wpf_bridge_worker_heartbeat' );
	delete_option( 'wpf_bridge_runtimes' );
	WPF_Bridge_Worker::unschedule();

	// phpcs:disable WordPress.DB.DirectDatabaseQuery -- no API lists transients by prefix.
	$wpdb->query(
		$wpdb->prepare(
			"DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s",
			$wpdb->esc_like( '_transient_wpf_bridge_' ) . '%',
			$wpdb->esc_like( '_transient_timeout_wpf_bridge_' ) . '%'
		)
	);
	// phpcs:enable
	WPF_Bridge_Log::drop_table();
	WPF_Bridge_Queue_Schema::drop_table();
	// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the refusals table is dropped by name.
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}wpf_bridge_refusals" ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.DirectDatabaseQuery.SchemaChange -- table name only.
	// phpcs:enable
}

if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) as $wpf_bridge_blog_id ) {
		switch_to_blog( (int) $wpf_bridge_blog_id );
		wpf_bridge_uninstall_site();
		restore_current_blog();
	}
} else {
	wpf_bridge_uninstall_site();
}

// The must-use loader, if the file there is ours (the marker WPF_Bridge_Loader writes).
$wpf_bridge_loader = WPMU_PLUGIN_DIR . '/wpf-bridge-loader.php';
if ( is_file( $wpf_bridge_loader ) && str_contains( (string) file_get_contents( $wpf_bridge_loader ), '@wpf-bridge-loader' ) ) { // phpcs:ignore WordPress.WP.AlternativeFunctions -- a local file.
	wp_delete_file( $wpf_bridge_loader );
}
