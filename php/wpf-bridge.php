<?php
/**
 * Plugin Name:       WPF Bridge
 * Plugin URI:        https://github.com/wpf-bridge/wpf-bridge
 * Description:       Answers CRM webhooks (Mautic, User.com) with WP Fusion's URL contract. The work is done by the wpf_bridge PHP extension; this plugin carries requests to it and results back.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Author:            WPF Bridge contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       wpf-bridge
 *
 * This file only wires things together: constants, the class autoloader, the hooks.
 * Each class in includes/ is one role in the flow; ARCHITECTURE.md lists them.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/** Plugin version; must equal wpf_bridge_version() of the loaded extension. */
define( 'WPF_BRIDGE_PLUGIN_VERSION', '0.1.0' );
define( 'WPF_BRIDGE_PLUGIN_FILE', __FILE__ );
define( 'WPF_BRIDGE_PLUGIN_DIR', __DIR__ );

spl_autoload_register(
	static function ( string $class ): void {
		static $map = array(
			'WPF_Bridge_Extension'      => 'includes/class-extension.php',
			'WPF_Bridge_Settings'       => 'includes/class-settings.php',
			'WPF_Bridge_Endpoint'       => 'includes/class-endpoint.php',
			'WPF_Bridge_Site'           => 'includes/class-site.php',
			'WPF_Bridge_Log'            => 'includes/class-log.php',
			'WPF_Bridge_Refusals'       => 'includes/class-refusals.php',
			'WPF_Bridge_Table'          => 'includes/class-table.php',
			'WPF_Bridge_Queue_Schema'   => 'includes/class-queue-schema.php',
			'WPF_Bridge_Queue'          => 'includes/class-queue.php',
			'WPF_Bridge_Queue_Admin'    => 'includes/class-queue-admin.php',
			'WPF_Bridge_Installer'      => 'includes/class-installer.php',
			'WPF_Bridge_Loader'         => 'includes/class-loader.php',
			'WPF_Bridge_Worker'         => 'includes/class-worker.php',
			'WPF_Bridge_Resident_Worker' => 'includes/class-resident-worker.php',
			'WPF_Bridge_CLI'            => 'includes/class-cli.php',
			'WPF_Bridge_Passwords'      => 'includes/class-passwords.php',
			'WPF_Bridge_Admin_Notices'  => 'includes/admin/class-admin-notices.php',
			'WPF_Bridge_Settings_Page'  => 'includes/admin/class-settings-page.php',
			'WPF_Bridge_Mapping_Tester' => 'includes/admin/class-mapping-tester.php',
			'WPF_Bridge_Sources'        => 'includes/admin/class-sources.php',
			'WPF_Bridge_Webhooks_Page'  => 'includes/admin/class-webhooks-page.php',
			'WPF_Bridge_Admin_View'     => 'includes/admin/class-admin-view.php',
			'WPF_Bridge_Admin_Form'     => 'includes/admin/class-admin-form.php',
			'WPF_Bridge_List_Table'     => 'includes/admin/class-list-table.php',
			'WPF_Bridge_Events_List_Table' => 'includes/admin/class-events-list-table.php',
			'WPF_Bridge_Requests_List_Table' => 'includes/admin/class-requests-list-table.php',
			'WPF_Bridge_Retention'      => 'includes/class-retention.php',
			'WPF_Bridge_Site_Health'    => 'includes/admin/class-site-health.php',
		);
		if ( isset( $map[ $class ] ) ) {
			require WPF_BRIDGE_PLUGIN_DIR . '/' . $map[ $class ];
		}
	}
);

// Opt-in argon2id passwords (core's filters on 6.8+, the pluggable functions before): the
// pluggable functions must exist before wp-includes/pluggable.php loads, which happens right
// after the active plugins are included, so this cannot wait for a hook.
WPF_Bridge_Passwords::register();

register_activation_hook( __FILE__, array( 'WPF_Bridge_Installer', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'WPF_Bridge_Installer', 'deactivate' ) );

// A new table schema is installed before anything (a webhook included) writes to it.
add_action( 'plugins_loaded', array( 'WPF_Bridge_Installer', 'maybe_upgrade' ) );
// Whether this PHP (command line or web server) loads the extension, for the other to compare.
add_action( 'plugins_loaded', array( 'WPF_Bridge_Extension', 'record_runtime' ) );

// The queue: drained every minute by WP-Cron, besides after webhooks and by bin/worker.php.
add_filter( 'cron_schedules', array( 'WPF_Bridge_Worker', 'cron_schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval -- one minute on purpose: webhooks should not wait longer.
add_action( WPF_Bridge_Worker::CRON_HOOK, array( 'WPF_Bridge_Worker', 'tick' ) );

// WP-CLI: `wp wpf-bridge queue status|run|retry|discard` (bin/worker.php runs the same code).
if ( defined( 'WP_CLI' ) && WP_CLI ) {
	WPF_Bridge_CLI::register_wp_cli();
}

// Webhooks that need all of WordPress (immediate processing, `test`) are answered on init,
// before the theme and most plugins do their init work.
add_action( 'init', array( 'WPF_Bridge_Endpoint', 'maybe_handle' ), 1 );
// A drain whose budget ended with events due hands over to a loopback request.
add_action( 'init', array( 'WPF_Bridge_Worker', 'maybe_take_over' ), 1 );

if ( is_admin() ) {
	add_action( 'admin_notices', array( 'WPF_Bridge_Admin_Notices', 'render' ) );
	add_action( 'admin_menu', array( 'WPF_Bridge_Settings_Page', 'register' ) );
	add_action( 'admin_menu', array( 'WPF_Bridge_Webhooks_Page', 'register' ) );
	add_action( 'admin_page_access_denied', array( 'WPF_Bridge_Webhooks_Page', 'redirect_old_slug' ) );
	// The webhooks page's "Rows per page" screen option (saved before any page loads).
	add_filter( 'set_screen_option_' . WPF_Bridge_Webhooks_Page::PER_PAGE_OPTION, array( 'WPF_Bridge_Webhooks_Page', 'keep_per_page' ), 10, 3 );
	add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), array( 'WPF_Bridge_Settings_Page', 'action_links' ) );
}
// Retention: done queue events and old log rows are pruned on the queue's minute tick.
WPF_Bridge_Retention::register();

// Site Health runs its direct tests from admin pages and from the REST API / cron.
add_filter( 'site_status_tests', array( 'WPF_Bridge_Site_Health', 'register' ) );

// Background webhooks are answered now: this file is loaded by the must-use loader before the
// other plugins and the theme (or, without it, with the other plugins). Keep this line last.
WPF_Bridge_Endpoint::accept_early();
