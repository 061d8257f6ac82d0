<?php
/**
 * Retention: on every queue tick (the one-minute WP-Cron hook `wpf_bridge_queue_tick`), done
 * and failed queue events (the extension's `prune_states`) settled longer ago than the
 * `keep_done_days` setting are deleted, then the oldest done ones beyond the extension's cap
 * (wpf_bridge_rules()['queue']['keep_done_at_most']); the log table is trimmed to its budgets
 * as well. Nothing waiting is ever deleted here: pending, claimed and retrying events wait for
 * the worker or an administrator, and a failed one waits `keep_done_days` for a Retry.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Prunes the queue and the log.
 */
final class WPF_Bridge_Retention {

	/** The queue's minute tick (scheduled by the worker). */
	public const TICK_HOOK = 'wpf_bridge_queue_tick';

	/**
	 * Hooks pruning onto the tick.
	 */
	public static function register(): void {
		add_action( self::TICK_HOOK, array( self::class, 'prune' ) );
	}

	/**
	 * Prunes now. Settings the extension refuses prune nothing from the queue (a bad
	 * keep_done_days must not delete anything). Errors are swallowed: the next tick tries again.
	 *
	 * @return int Queue events deleted.
	 */
	public static function prune(): int {
		WPF_Bridge_Refusals::fold();
		WPF_Bridge_Log::prune_all();
		$rules = WPF_Bridge_Extension::rules();
		if ( ! isset( $rules['queue']['keep_done_at_most'] ) || ! function_exists( 'wpf_bridge_validate_settings' ) ) {
			return 0;
		}
		try {
			$settings = wpf_bridge_validate_settings( WPF_Bridge_Settings::for_extension() );
			$queue    = new WPF_Bridge_Queue();
			return $queue->prune(
				$queue->now() - (int) $settings['keep_done_days'] * DAY_IN_SECONDS,
				(int) $rules['queue']['keep_done_at_most']
			);
		} catch ( \Throwable $e ) {
			return 0;
		}
	}
}
