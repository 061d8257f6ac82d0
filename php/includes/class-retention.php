<?php
/**
 * Retention: on every queue tick (the one-minute WP-Cron hook WPF_Bridge_Worker::CRON_HOOK), done
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
 * Prunes the queue and the log (the queue's DELETEs are here; its schema is
 * WPF_Bridge_Queue_Schema's).
 */
final class WPF_Bridge_Retention {

	/**
	 * Hooks pruning onto the minute tick (its name and schedule are the worker's).
	 */
	public static function register(): void {
		add_action( WPF_Bridge_Worker::CRON_HOOK, array( self::class, 'prune' ) );
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
			return self::prune_queue(
				WPF_Bridge_Table::now() - (int) $settings['keep_done_days'] * DAY_IN_SECONDS,
				(int) $rules['queue']['keep_done_at_most']
			);
		} catch ( \Throwable $e ) {
			return 0;
		}
	}

	/**
	 * Retention: deletes the events in the extension's `prune_states` (done and failed) settled
	 * before $done_before_unix, then the oldest done events beyond the newest $keep_at_most.
	 * Never a waiting event; in bounded batches for a few seconds per kind at most
	 * (WPF_Bridge_Table::delete_in_batches(); the next call goes on).
	 *
	 * @return int How many events were deleted.
	 */
	public static function prune_queue( int $done_before_unix, int $keep_at_most ): int {
		global $wpdb;
		$table   = WPF_Bridge_Queue_Schema::table();
		$deleted = 0;
		foreach ( (array) WPF_Bridge_Queue_Schema::rule( 'prune_states' ) as $state ) {
			// One state at a time, so each DELETE reads one range of the state_settled index.
			$deleted += $table->delete_in_batches( $wpdb->prepare( 'state = %s AND settled_at < %d', (string) $state, $done_before_unix ), 'Could not prune events' );
		}
		$wpdb->flush();
		$edge = $wpdb->get_row(
			$wpdb->prepare( 'SELECT settled_at, id FROM ' . $table->name() . " WHERE state = 'done' ORDER BY settled_at DESC, id DESC LIMIT 1 OFFSET %d", max( 0, $keep_at_most ) ), // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name only.
			ARRAY_A
		);
		WPF_Bridge_Table::check( 'Could not prune events' );
		if ( is_array( $edge ) ) {
			$deleted += $table->delete_in_batches(
				$wpdb->prepare( "state = 'done' AND (settled_at < %d OR (settled_at = %d AND id <= %d))", (int) $edge['settled_at'], (int) $edge['settled_at'], (int) $edge['id'] ),
				'Could not prune events'
			);
		}
		return $deleted;
	}
}
