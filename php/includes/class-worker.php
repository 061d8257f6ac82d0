<?php
/**
 * The queue worker: runs the extension's drain (wpf_bridge_drain) over this site's queue.
 *
 * Every trigger comes here: the webhook request that took the drain lease (after its answer
 * has left), WP-Cron every minute, bin/worker.php and `wp wpf-bridge queue run`, and the
 * webhooks page's Retry. The extension decides everything (which contact, coalescing, retry
 * or fail); this class only picks the trigger's limits and fires `wpf_bridge_drained` with
 * the report.
 *
 * The drain lease is a MySQL named lock per site, taken without waiting: of the webhook
 * requests arriving together only one goes on to load WordPress and drain; the others end
 * right after their answer. It is an optimisation, not a guarantee: the per-contact locks
 * and the queue's atomic claims keep two drains (a CLI run and a webhook, or two servers)
 * from applying one event twice.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Drains the queue.
 */
final class WPF_Bridge_Worker {

	/** WP-Cron hook of the minute tick (drain, then housekeeping hooked by others). */
	public const CRON_HOOK = 'wpf_bridge_queue_tick';

	/** WP-Cron schedule: every minute. */
	public const CRON_SCHEDULE = 'wpf_bridge_minute';

	/** Whether this process holds the drain lease. */
	private static bool $leased = false;

	/** Whether this process's drain makes one pass only (one_pass()). */
	private static bool $one_pass = false;

	/**
	 * Makes this process's drain after the answer one pass, without rounds: the request
	 * applied its own webhook's events already (immediate processing).
	 */
	public static function one_pass(): void {
		self::$one_pass = true;
	}

	/** Query parameter of a hand-over request (a drain's budget ended with events due). */
	public const HANDOVER_PARAM = 'wpf_bridge_handover';

	/** Option holding the pending hand-over's token hash and expiry (not autoloaded). */
	public const HANDOVER_OPTION = 'wpf_bridge_handover';

	/**
	 * Drains due events now, within $budget_seconds and $max_contacts, while $go_on (asked
	 * before each contact) says so. The bounds' defaults are the extension's
	 * (wpf_bridge_rules()['worker']): null $budget_seconds is the command line's
	 * `run_budget_seconds`, null $max_contacts is `max_contacts`.
	 *
	 * @return array{contacts: int, applies: int, done: int, retrying: int, failed: int, busy: int}
	 * @throws \Throwable When the extension or an adapter fails (claimed events are then
	 *                    claimed again after their lease).
	 */
	public static function drain( ?int $budget_seconds, ?int $max_contacts = null, ?callable $go_on = null ): array {
		self::check_usable();
		$budget_seconds = $budget_seconds ?? (int) self::rule( 'run_budget_seconds' );
		$max_contacts   = $max_contacts ?? (int) self::rule( 'max_contacts' );
		// Our own writes must not be pushed back to the CRM by WP Fusion or similar plugins.
		WPF_Bridge_Endpoint::mark_doing_webhook();
		// Asked before each contact: a setting saved during a long drain applies to the next
		// one, and a worker asked to stop ($go_on false) ends after the contact in hand.
		$report = wpf_bridge_drain(
			static fn (): ?array => null === $go_on || $go_on() ? WPF_Bridge_Settings::current_for_extension() : null,
			new WPF_Bridge_Site(),
			new WPF_Bridge_Queue(),
			max( 1, $max_contacts ),
			max( 1, $budget_seconds )
		);
		/**
		 * After each drain: the extension's report (contacts, applies, done, retrying, failed, busy).
		 *
		 * @param array $report The drain's report.
		 */
		do_action( 'wpf_bridge_drained', $report );
		return $report;
	}

	/**
	 * Throws, saying why and what to do, when the queue cannot be drained here: the extension
	 * is missing from this PHP, or of another version than the plugin.
	 *
	 * @throws RuntimeException When the extension cannot be used.
	 */
	public static function check_usable(): void {
		$problem = WPF_Bridge_Extension::problem();
		if ( null === $problem ) {
			return;
		}
		$why  = 'extension_missing' === $problem['code']
			? 'The wpf_bridge PHP extension is not loaded in this PHP (' . PHP_SAPI . ' ' . WPF_Bridge_Extension::php_minor() . ')'
			: 'The wpf_bridge PHP extension is version ' . WPF_Bridge_Extension::version() . ' but the plugin is version ' . WPF_BRIDGE_PLUGIN_VERSION;
		$hint = WPF_Bridge_Extension::runtime_mismatch()
			?? ( 'extension_missing' === $problem['code'] ? WPF_Bridge_Extension::install_instruction() : 'Install both from the same release.' );
		throw new RuntimeException( $why . ': the queue cannot be drained. ' . $hint );
	}

	/**
	 * One of the extension's drain rules (wpf_bridge_rules()['worker']): `max_contacts` (one
	 * drain's contacts at most), `round_pause_seconds` (between a draining request's rounds),
	 * `handover_token_seconds`, `run_budget_seconds` (the command line's `run`).
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function rule( string $key ): mixed {
		return WPF_Bridge_Extension::rule( 'worker', $key );
	}

	/**
	 * Drains in rounds while holding the lease (the caller took it with try_lease()), until
	 * nothing is due or the budget is spent, then lets it go.
	 *
	 * Between rounds it waits the extension's round pause (rule `round_pause_seconds`), still
	 * holding the lease: webhooks arriving in a
	 * burst are then taken together (one apply per contact per round, however many versions
	 * arrived), and no other request loads the rest of WordPress to drain them. Every round
	 * after the first comes after a pause, so a drain never loops without one (a contact whose
	 * lock another worker holds is left until a later round), and none starts when less than
	 * a pause is left. When nothing is due it lets the lease go and looks once more, for
	 * events accepted by requests that found the lease taken (a near miss), before it ends.
	 * Errors are logged, never thrown: the caller is a request whose answer has left, or cron.
	 */
	public static function drain_holding_lease( int $budget_seconds ): void {
		$deadline = microtime( true ) + max( 1, $budget_seconds );
		$queue    = new WPF_Bridge_Queue();
		$due      = static fn (): bool => array() !== $queue->due_contacts( 1 );
		$hand_over = false;
		try {
			$pause = (float) self::rule( 'round_pause_seconds' );
			while ( true ) {
				$report = self::drain( (int) ceil( $deadline - microtime( true ) ) );
				if ( self::$one_pass || microtime( true ) + $pause >= $deadline ) {
					// The budget ended with events due and work being done: the next drain starts
					// now, not at the next tick. A pass that only found busy contacts hands over
					// nothing (their holders settle them; the tick takes the rest).
					$hand_over = $report['contacts'] > 0 && $due();
					break;
				}
				usleep( (int) ( $pause * 1000000 ) );
				if ( $due() ) {
					continue;
				}
				self::release_lease();
				if ( ! $due() || ! self::try_lease() ) {
					break;
				}
			}
		} catch ( \Throwable $e ) {
			self::log_failure( $e );
		} finally {
			self::release_lease();
		}
		if ( $hand_over ) {
			self::hand_over();
		}
	}

	/**
	 * Starts the next drain in a new request to this site (a loopback, as WP-Cron spawns
	 * itself), once this one has let the lease go. The request carries a one-time token, so
	 * nobody else can make the site drain; it answers at once and drains if it gets the lease.
	 * Where loopbacks fail (HTTP authentication, a firewall), the minute tick and the command
	 * line worker are left, as before.
	 */
	private static function hand_over(): void {
		global $wpdb;
		$token   = bin2hex( random_bytes( 16 ) );
		$pending = array(
			'hash'  => hash( 'sha256', $token ),
			'until' => time() + (int) self::rule( 'handover_token_seconds' ),
		);
		// Written and read with SQL, not the option API: a long-lived drain's option cache may
		// hold a token another request has used and deleted.
		$wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)", self::HANDOVER_OPTION, maybe_serialize( $pending ) ) );
		wp_remote_post(
			add_query_arg( self::HANDOVER_PARAM, $token, home_url( '/' ) ),
			array(
				'timeout'   => 3,
				/** This filter is documented in wp-includes/class-wp-http-streams.php */
				'sslverify' => apply_filters( 'https_local_ssl_verify', false ),
			)
		);
	}

	/**
	 * Hooked on init: a hand-over request (hand_over()) with the pending token answers at once
	 * and drains if it takes the lease; any other request is left alone. The token is used
	 * once.
	 */
	public static function maybe_take_over(): void {
		// phpcs:ignore WordPress.Security.NonceVerification -- a one-time token, compared in constant time.
		if ( ! isset( $_GET[ self::HANDOVER_PARAM ] ) || ! is_string( $_GET[ self::HANDOVER_PARAM ] ) ) {
			return;
		}
		$token   = sanitize_text_field( wp_unslash( $_GET[ self::HANDOVER_PARAM ] ) ); // phpcs:ignore WordPress.Security.NonceVerification
		global $wpdb;
		$pending = maybe_unserialize( (string) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::HANDOVER_OPTION ) ) );
		if ( ! is_array( $pending ) || (int) ( $pending['until'] ?? 0 ) < time()
			|| ! hash_equals( (string) ( $pending['hash'] ?? '' ), hash( 'sha256', $token ) ) ) {
			return;
		}
		// Used once: of two requests with the same token, only the one that deletes it drains.
		$used = $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name = %s AND option_value = %s", self::HANDOVER_OPTION, maybe_serialize( $pending ) ) );
		if ( 1 !== (int) $used ) {
			return;
		}
		if ( ! headers_sent() ) {
			status_header( 204 );
			nocache_headers();
		}
		if ( function_exists( 'fastcgi_finish_request' ) ) {
			fastcgi_finish_request();
		} elseif ( function_exists( 'litespeed_finish_request' ) ) {
			litespeed_finish_request();
		}
		if ( WPF_Bridge_Extension::usable() && self::try_lease() ) {
			add_action( 'wp_loaded', array( self::class, 'drain_after_answer' ), PHP_INT_MAX );
			return;
		}
		exit;
	}

	/**
	 * wp_loaded, in the webhook request that took the lease after its answer left: drains
	 * within the settings' time budget, then ends the request (nothing else is rendered).
	 */
	public static function drain_after_answer(): never {
		ignore_user_abort( true );
		$budget = self::budget();
		if ( function_exists( 'set_time_limit' ) ) {
			set_time_limit( $budget + 30 );
		}
		self::drain_holding_lease( $budget );
		exit;
	}

	/**
	 * The cron tick: drains if no other worker holds the lease.
	 */
	public static function tick(): void {
		if ( WPF_Bridge_Extension::usable() && self::try_lease() ) {
			self::drain_holding_lease( self::budget() );
		}
	}

	/**
	 * The drain budget of a webhook request or a cron tick: the settings' time budget.
	 */
	public static function budget(): int {
		$settings = WPF_Bridge_Settings::effective();
		return max( 1, (int) ( $settings['time_budget'] ?? 20 ) );
	}

	/**
	 * Takes the drain lease without waiting.
	 */
	public static function try_lease(): bool {
		global $wpdb;
		if ( self::$leased ) {
			return true;
		}
		$got          = $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', self::lease_name() ) );
		self::$leased = '1' === (string) $got;
		return self::$leased;
	}

	/**
	 * Whether this process holds the drain lease now, asked of the database: a connection lost
	 * and made again (wpdb reconnects) has lost it.
	 */
	public static function holds_lease(): bool {
		global $wpdb;
		if ( self::$leased ) {
			self::$leased = '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT IS_USED_LOCK(%s) = CONNECTION_ID()', self::lease_name() ) );
		}
		return self::$leased;
	}

	/**
	 * Releases the drain lease if this process holds it.
	 */
	public static function release_lease(): void {
		global $wpdb;
		if ( self::$leased ) {
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', self::lease_name() ) );
			self::$leased = false;
		}
	}

	/**
	 * The lease's lock name: one per site's queue table on this database (at most 64 chars).
	 */
	public static function lease_name(): string {
		global $wpdb;
		return 'wpf_bridge_drain_' . md5( DB_NAME . '|' . $wpdb->prefix );
	}

	/**
	 * cron_schedules: adds the one-minute schedule.
	 *
	 * @param array $schedules Schedules by name.
	 */
	public static function cron_schedules( $schedules ): array {
		$schedules                        = (array) $schedules;
		$schedules[ self::CRON_SCHEDULE ] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (WPF Bridge queue)', 'wpf-bridge' ),
		);
		return $schedules;
	}

	/**
	 * Schedules the minute tick unless it is scheduled (one autoloaded option read).
	 */
	public static function schedule(): void {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time(), self::CRON_SCHEDULE, self::CRON_HOOK );
		}
	}

	/**
	 * Removes the minute tick (deactivation).
	 */
	public static function unschedule(): void {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * A drain that stopped on an error: one row in the plugin's log (the message holds no
	 * secret: adapter and extension errors never carry one).
	 */
	private static function log_failure( \Throwable $e ): void {
		WPF_Bridge_Log::write(
			array(
				'action'  => 'drain',
				'outcome' => 'drain_error',
				'status'  => 0,
				'details' => array( 'error: the queue drain stopped: ' . get_class( $e ) . ': ' . $e->getMessage() ),
			)
		);
	}
}
