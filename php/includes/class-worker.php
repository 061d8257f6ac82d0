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

	/**
	 * Seconds a draining request waits between rounds, holding the lease, so a burst's
	 * webhooks are applied together. Measured on the webhook benchmark (README, "Measured").
	 */
	public const ROUND_PAUSE = 1.0;

	/** Contacts one drain takes at most; the time budget usually ends it first. */
	public const MAX_CONTACTS = 1000;

	/** Whether this process holds the drain lease. */
	private static bool $leased = false;

	/**
	 * Drains due events now, within $budget_seconds and $max_contacts.
	 *
	 * @return array{contacts: int, applies: int, done: int, retrying: int, failed: int, busy: int}
	 * @throws \Throwable When the extension or an adapter fails (claimed events are then
	 *                    claimed again after their lease).
	 */
	public static function drain( int $budget_seconds, int $max_contacts = self::MAX_CONTACTS ): array {
		$problem = WPF_Bridge_Extension::problem();
		if ( null !== $problem ) {
			$why = 'extension_missing' === $problem['code']
				? 'The wpf_bridge PHP extension is not loaded in this PHP (' . PHP_SAPI . ' ' . WPF_Bridge_Extension::php_minor() . ')'
				: 'The wpf_bridge PHP extension is version ' . WPF_Bridge_Extension::version() . ' but the plugin is version ' . WPF_BRIDGE_PLUGIN_VERSION;
			$hint = WPF_Bridge_Extension::runtime_mismatch()
				?? ( 'extension_missing' === $problem['code'] ? WPF_Bridge_Extension::install_instruction() : 'Install both from the same release.' );
			throw new RuntimeException( $why . ': the queue cannot be drained. ' . $hint );
		}
		// Our own writes must not be pushed back to the CRM by WP Fusion or similar plugins.
		WPF_Bridge_Endpoint::mark_doing_webhook();
		$report = wpf_bridge_drain(
			WPF_Bridge_Settings::for_extension(),
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
	 * Drains in rounds while holding the lease (the caller took it with try_lease()), until
	 * nothing is due or the budget is spent, then lets it go.
	 *
	 * Between rounds it waits ROUND_PAUSE, still holding the lease: webhooks arriving in a
	 * burst are then taken together (one apply per contact per round, however many versions
	 * arrived), and no other request loads the rest of WordPress to drain them. Events
	 * accepted by requests that found the lease taken are looked for once more after it is
	 * released, so none waits for the next tick because of a near miss. Errors are logged,
	 * never thrown: the caller is a request whose answer has left, or cron.
	 */
	public static function drain_holding_lease( int $budget_seconds ): void {
		$deadline = microtime( true ) + max( 1, $budget_seconds );
		$queue    = new WPF_Bridge_Queue();
		$due      = static fn (): bool => array() !== $queue->due_contacts( 1 );
		try {
			do {
				while ( true ) {
					self::drain( (int) ceil( $deadline - microtime( true ) ) );
					if ( microtime( true ) + self::ROUND_PAUSE >= $deadline ) {
						break;
					}
					usleep( (int) ( self::ROUND_PAUSE * 1000000 ) );
					if ( ! $due() ) {
						break;
					}
				}
				self::release_lease();
			} while ( microtime( true ) < $deadline && $due() && self::try_lease() );
		} catch ( \Throwable $e ) {
			self::log_failure( $e );
		} finally {
			self::release_lease();
		}
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
	private static function lease_name(): string {
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
