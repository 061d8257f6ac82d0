<?php
/**
 * Tools > WPF Bridge Webhooks (tools.php?page=wpf-bridge-webhooks): the controller. It reads
 * the request (GET filters and sort order, validated; POSTs each with its nonce, for users who
 * can manage options), calls the queue and log adapters and the worker, answers a change with
 * a redirect and a notice, and hands one of two lists to views/webhooks-page.php: the queued
 * contact events (WPF_Bridge_Events_List_Table, by state and contact; Retry and Discard per
 * event, for the checked events, and for every failed event) or the log's requests that stored
 * nothing (WPF_Bridge_Requests_List_Table: refused before authentication, or errors and tests).
 *
 * Which events Retry and Discard may touch is the extension's rule; the queue adapter runs
 * the SQL. The old log page's URL (tools.php?page=wpf-bridge-log) redirects here.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The webhooks page's controller.
 */
final class WPF_Bridge_Webhooks_Page {

	/** Menu slug: tools.php?page=wpf-bridge-webhooks. */
	public const SLUG = 'wpf-bridge-webhooks';

	/** The log page's slug before the queue; its URL redirects here. */
	public const OLD_SLUG = 'wpf-bridge-log';

	/** View of the log rows refused before authentication. */
	public const VIEW_REFUSED = 'refused';

	/** View of the other log rows (errors after authentication, tests). */
	public const VIEW_UNSTORED = 'unstored';

	/** The screen option holding the rows per page (user meta, as WordPress stores it). */
	public const PER_PAGE_OPTION = 'wpf_bridge_webhooks_per_page';

	/** Rows per page unless the user chose otherwise, and the most a user may choose. */
	public const PER_PAGE     = 50;
	public const MAX_PER_PAGE = 999;

	/** Longest contact id the filter takes (the column's width). */
	private const CONTACT_MAX_BYTES = 255;

	/** What a Retry may spend applying the retried events at once. */
	private const RETRY_BUDGET_SECONDS = 10;

	/** Contacts a Retry applies at once at most. */
	private const RETRY_MAX_CONTACTS = 50;

	/**
	 * What load() prepared for the template.
	 *
	 * @var array
	 */
	private static array $view = array();

	/**
	 * admin_menu: adds the page and its load-* handler.
	 */
	public static function register(): void {
		$hook = add_management_page(
			__( 'WPF Bridge Webhooks', 'wpf-bridge' ),
			__( 'WPF Bridge Webhooks', 'wpf-bridge' ),
			WPF_Bridge_Settings_Page::CAPABILITY,
			self::SLUG,
			array( self::class, 'render' )
		);
		if ( $hook ) {
			add_action( 'load-' . $hook, array( self::class, 'load' ) );
		}
	}

	/**
	 * set_screen_option_{option}: keeps the rows per page a user chose, 1 to MAX_PER_PAGE.
	 *
	 * @param mixed  $keep   What WordPress keeps so far (false: nothing).
	 * @param string $option The option.
	 * @param mixed  $value  The submitted value.
	 * @return mixed
	 */
	public static function keep_per_page( $keep, $option, $value ) {
		$value = is_scalar( $value ) ? absint( $value ) : 0;
		return self::PER_PAGE_OPTION === $option && $value >= 1 && $value <= self::MAX_PER_PAGE ? $value : $keep;
	}

	/**
	 * admin_page_access_denied: the old log page's URL (no page is registered under it any
	 * more) takes an administrator to this page instead of an error.
	 */
	public static function redirect_old_slug(): void {
		global $pagenow;
		if ( 'tools.php' === $pagenow
			&& isset( $_GET['page'] ) && self::OLD_SLUG === $_GET['page'] // phpcs:ignore WordPress.Security.NonceVerification -- a redirect, nothing changes.
			&& current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_safe_redirect( self::url() );
			exit;
		}
	}

	/**
	 * The page's URL.
	 *
	 * @param array $args Extra query arguments (state: a view, contact, paged, orderby, order); empty ones are left out.
	 */
	public static function url( array $args = array() ): string {
		$args = array_filter( $args, static fn( $value ) => '' !== (string) $value && 0 !== $value );
		return add_query_arg( array_map( 'rawurlencode', array( 'page' => self::SLUG ) + $args ), admin_url( 'tools.php' ) );
	}

	/**
	 * The views: '' (every event), each queue state, refused, unstored.
	 *
	 * @return array<string, string> View => label.
	 */
	private static function views(): array {
		$states = (array) ( WPF_Bridge_Extension::rules()['queue']['states'] ?? array() );
		return array( '' => __( 'All events', 'wpf-bridge' ) )
			+ array_map( 'strval', $states )
			+ array(
				self::VIEW_REFUSED  => __( 'Refused', 'wpf-bridge' ),
				self::VIEW_UNSTORED => __( 'Errors and tests', 'wpf-bridge' ),
			);
	}

	/**
	 * The filters of a request (GET for the page, the hidden fields of a POST and its
	 * address): a known view, a contact id of at most 255 bytes of printable UTF-8, a page
	 * number, the sort (orderby id, order asc or desc). Anything else is dropped and `invalid`
	 * lists what.
	 *
	 * @param array $source $_GET, or $_POST + $_GET (slashed).
	 * @return array{state: string, contact: string, paged: int, orderby: string, order: string, invalid: string[]}
	 */
	private static function filters( array $source ): array {
		$invalid = array();
		$text    = static fn( string $key ): string => isset( $source[ $key ] ) && is_string( $source[ $key ] ) ? wp_unslash( $source[ $key ] ) : '';
		$view    = $text( 'state' );
		if ( ! array_key_exists( $view, self::views() ) ) {
			$invalid[] = 'state';
			$view      = '';
		}
		$contact = trim( $text( 'contact' ) );
		if ( '' !== $contact && ( strlen( $contact ) > self::CONTACT_MAX_BYTES || ! mb_check_encoding( $contact, 'UTF-8' ) || preg_match( '/[\x00-\x1F\x7F]/', $contact ) ) ) {
			$invalid[] = 'contact';
			$contact   = '';
		}
		$orderby = $text( 'orderby' );
		if ( ! in_array( $orderby, array( '', 'id' ), true ) ) {
			$invalid[] = 'orderby';
			$orderby   = '';
		}
		$order = strtolower( $text( 'order' ) );
		if ( ! in_array( $order, array( '', 'asc', 'desc' ), true ) ) {
			$invalid[] = 'order';
			$order     = '';
		}
		$paged = isset( $source['paged'] ) && is_scalar( $source['paged'] ) ? absint( $source['paged'] ) : 0;
		return array(
			'state'   => $view,
			'contact' => $contact,
			'paged'   => max( 1, $paged ),
			'orderby' => $orderby,
			'order'   => $order,
			'invalid' => $invalid,
		);
	}

	/**
	 * load-*: a POST is handled (and redirected); otherwise the screen option, the assets and
	 * the list the template shows are set up before any output.
	 */
	public static function load(): void {
		self::handle_post();
		add_screen_option(
			'per_page',
			array(
				'label'   => __( 'Rows per page', 'wpf-bridge' ),
				'default' => self::PER_PAGE,
				'option'  => self::PER_PAGE_OPTION,
			)
		);
		add_action( 'admin_enqueue_scripts', array( 'WPF_Bridge_Admin_View', 'enqueue_assets' ) );
		if ( current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			self::$view = self::prepare( self::filters( $_GET ) ); // phpcs:ignore WordPress.Security.NonceVerification -- read-only filters, validated.
		}
	}

	/**
	 * What the template shows: the filters, the texts' numbers, the list of the view asked for
	 * (read through the adapters), or the problem that keeps it from being shown.
	 *
	 * @param array $filters The filters in force.
	 */
	private static function prepare( array $filters ): array {
		$view  = array(
			'filters' => $filters,
			'problem' => null,
		);
		$rules = WPF_Bridge_Extension::rules();
		if ( null === $rules ) {
			$view['problem'] = 'extension-missing-webhooks';
			return $view;
		}
		$view += array(
			'keep_done_days'    => (int) ( WPF_Bridge_Settings::effective()['keep_done_days'] ?? 0 ),
			'keep_done_at_most' => (int) ( $rules['queue']['keep_done_at_most'] ?? 0 ),
		);
		try {
			$summary = WPF_Bridge_Queue_Admin::summary();
		} catch ( \Throwable $e ) {
			$view['problem'] = 'queue-unreadable';
			return $view;
		}
		// The refusal counters of the last minutes become rows before the views count them.
		WPF_Bridge_Refusals::fold();
		$links = self::view_links( $filters, (array) $summary['counts'] );
		switch ( $filters['state'] ) {
			case self::VIEW_REFUSED:
			case self::VIEW_UNSTORED:
				$refused = self::VIEW_REFUSED === $filters['state'];
				$table   = new WPF_Bridge_Requests_List_Table( $refused, $filters, $links );
				$view   += array(
					'list' => $refused ? 'refused' : 'unstored',
					'kept' => $refused ? WPF_Bridge_Log::MAX_REFUSED_ROWS : WPF_Bridge_Log::MAX_ROWS,
				);
				break;
			default:
				$table = new WPF_Bridge_Events_List_Table( (array) $rules['queue'], (int) $summary['now'], $filters, $links );
				$view += array(
					'list'   => 'events',
					'failed' => (int) ( $summary['counts']['failed'] ?? 0 ),
				);
		}
		$table->prepare_items();
		return $view + array( 'table' => $table );
	}

	/**
	 * The views' links with their counts (the contact filter kept).
	 *
	 * @param array $filters The filters in force.
	 * @param array $counts  The queue's events per state.
	 * @return array<string, string> View => link HTML.
	 */
	private static function view_links( array $filters, array $counts ): array {
		$links = array();
		foreach ( self::views() as $view => $label ) {
			if ( '' === $view ) {
				$count = array_sum( $counts );
			} elseif ( self::VIEW_REFUSED === $view ) {
				$count = WPF_Bridge_Log::hits( true );
			} elseif ( self::VIEW_UNSTORED === $view ) {
				$count = WPF_Bridge_Log::count( false );
			} else {
				$count = (int) ( $counts[ $view ] ?? 0 );
			}
			$links[ '' === $view ? 'all' : $view ] = sprintf(
				'<a href="%s" id="%s" data-count="%d"%s>%s <span class="count">(%s)</span></a>',
				esc_url( self::url( array( 'state' => $view, 'contact' => $filters['contact'] ) ) ),
				esc_attr( 'wpf-bridge-view-' . ( '' === $view ? 'all' : $view ) ),
				(int) $count,
				$view === $filters['state'] ? ' class="current" aria-current="page"' : '',
				esc_html( $label ),
				esc_html( number_format_i18n( (int) $count ) )
			);
		}
		return $links;
	}

	/**
	 * Retry and Discard, of one event, of the checked events or of every failed event.
	 */
	private static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_POST['wpf_bridge_action'] ) || ! is_string( $_POST['wpf_bridge_action'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification -- each action checks its nonce below.
			return;
		}
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to change the webhook queue.', 'wpf-bridge' ), 403 );
		}
		// phpcs:disable WordPress.Security.NonceVerification -- checked per action below, before anything changes.
		$action = sanitize_key( wp_unslash( $_POST['wpf_bridge_action'] ) );
		$id     = isset( $_POST['event_id'] ) && is_scalar( $_POST['event_id'] ) ? absint( $_POST['event_id'] ) : 0;
		$back   = self::filters( $_POST + $_GET );
		// phpcs:enable
		switch ( $action ) {
			case 'retry_event':
				check_admin_referer( 'wpf_bridge_retry_event_' . $id, '_wpf_bridge_nonce' );
				self::retry( array( $id ) );
				break;
			case 'discard_event':
				check_admin_referer( 'wpf_bridge_discard_event_' . $id, '_wpf_bridge_nonce' );
				self::discard( array( $id ) );
				break;
			case 'bulk_events':
				check_admin_referer( 'wpf_bridge_bulk_events', '_wpf_bridge_nonce' );
				self::bulk();
				break;
			case 'retry_all_failed':
				check_admin_referer( 'wpf_bridge_retry_all_failed', '_wpf_bridge_nonce' );
				self::retry( null );
				break;
			case 'discard_all_failed':
				check_admin_referer( 'wpf_bridge_discard_all_failed', '_wpf_bridge_nonce' );
				self::discard( null );
				break;
			default:
				return;
		}
		wp_safe_redirect(
			self::url(
				array(
					'state'   => $back['state'],
					'contact' => $back['contact'],
					'paged'   => $back['paged'] > 1 ? $back['paged'] : '',
					'orderby' => $back['orderby'],
					'order'   => $back['order'],
				)
			)
		);
		exit;
	}

	/**
	 * The bulk action on the checked events (its nonce checked by the caller).
	 */
	private static function bulk(): void {
		// phpcs:disable WordPress.Security.NonceVerification -- verified by handle_post().
		$bulk = isset( $_POST['wpf_bridge_bulk'] ) && is_string( $_POST['wpf_bridge_bulk'] ) ? sanitize_key( wp_unslash( $_POST['wpf_bridge_bulk'] ) ) : '';
		$ids  = isset( $_POST['events'] ) && is_array( $_POST['events'] ) ? array_values( array_unique( array_filter( array_map( 'absint', wp_unslash( $_POST['events'] ) ) ) ) ) : array();
		// phpcs:enable
		if ( ! $ids || ! in_array( $bulk, array( 'retry', 'discard' ), true ) ) {
			WPF_Bridge_Admin_Notices::flash( 'warning', 'nothing-selected', __( 'Choose a bulk action and check the events it applies to.', 'wpf-bridge' ) );
			return;
		}
		if ( 'retry' === $bulk ) {
			self::retry( $ids );
		} else {
			self::discard( $ids );
		}
	}

	/**
	 * Sends events back to the queue, then applies what is due at once (within a small budget;
	 * the minute tick takes the rest).
	 *
	 * @param int[]|null $ids Events, or null for every failed event.
	 */
	private static function retry( ?array $ids ): void {
		self::change( 'retry', $ids );
	}

	/**
	 * Deletes events.
	 *
	 * @param int[]|null $ids Events, or null for every failed event.
	 */
	private static function discard( ?array $ids ): void {
		self::change( 'discard', $ids );
	}

	/**
	 * Retry or Discard through the queue adapter (which touches only the events the
	 * extension's rules allow), and the notice that says what changed.
	 *
	 * @param string     $change retry or discard.
	 * @param int[]|null $ids    Events, or null for every failed event.
	 */
	private static function change( string $change, ?array $ids ): void {
		$retry = 'retry' === $change;
		try {
			$count = $retry ? WPF_Bridge_Queue_Admin::requeue( $ids ) : WPF_Bridge_Queue_Admin::discard( $ids );
		} catch ( \Throwable $e ) {
			WPF_Bridge_Admin_Notices::flash(
				'error',
				'queue-error',
				$retry
					? __( 'The queue could not be changed: the database refused. Nothing was retried.', 'wpf-bridge' )
					: __( 'The queue could not be changed: the database refused. Nothing was discarded.', 'wpf-bridge' )
			);
			return;
		}
		$id      = (int) ( $ids[0] ?? 0 );
		$checked = null === $ids ? 0 : count( $ids );
		if ( 0 === $count ) {
			$texts = $retry
				? array(
					__( 'There was no failed event to retry.', 'wpf-bridge' ),
					/* translators: %d: event id */
					sprintf( __( 'Event #%d was not retried: only failed and retrying events can be, and a worker may have taken or applied it meanwhile.', 'wpf-bridge' ), $id ),
					__( 'None of the checked events was retried: only failed and retrying events can be, and a worker may have taken or applied them meanwhile.', 'wpf-bridge' ),
				)
				: array(
					__( 'There was no failed event to discard.', 'wpf-bridge' ),
					/* translators: %d: event id */
					sprintf( __( 'Event #%d was not discarded: an event in progress or done cannot be, and a worker may have taken or applied it meanwhile.', 'wpf-bridge' ), $id ),
					__( 'None of the checked events was discarded: an event in progress or done cannot be, and a worker may have taken or applied them meanwhile.', 'wpf-bridge' ),
				);
			WPF_Bridge_Admin_Notices::flash( 'warning', $retry ? 'nothing-retried' : 'nothing-discarded', $texts[ min( $checked, 2 ) ] );
			return;
		}
		$texts   = $retry
			? array(
				/* translators: %d: number of events */
				sprintf( _n( '%d failed event sent back to the queue.', '%d failed events sent back to the queue.', $count, 'wpf-bridge' ), $count ),
				/* translators: %d: event id */
				sprintf( __( 'Event #%d sent back to the queue.', 'wpf-bridge' ), $id ),
				/* translators: 1: events sent back, 2: events checked */
				sprintf( _n( '%1$d of %2$d checked events sent back to the queue.', '%1$d of %2$d checked events sent back to the queue.', $checked, 'wpf-bridge' ), $count, $checked ),
			)
			: array(
				/* translators: %d: number of events */
				sprintf( _n( '%d failed event discarded.', '%d failed events discarded.', $count, 'wpf-bridge' ), $count ),
				/* translators: %d: event id */
				sprintf( __( 'Event #%d discarded.', 'wpf-bridge' ), $id ),
				/* translators: 1: events discarded, 2: events checked */
				sprintf( _n( '%1$d of %2$d checked events discarded.', '%1$d of %2$d checked events discarded.', $checked, 'wpf-bridge' ), $count, $checked ),
			);
		$message = $texts[ min( $checked, 2 ) ];
		if ( $retry ) {
			$report   = self::drain_now();
			$message .= ' ' . ( null === $report
				? __( 'The queue worker applies it within a minute.', 'wpf-bridge' )
				: sprintf(
					/* translators: 1: events done, 2: events retrying, 3: events failed */
					__( 'Applied now: %1$d done, %2$d to retry later, %3$d failed.', 'wpf-bridge' ),
					(int) ( $report['done'] ?? 0 ),
					(int) ( $report['retrying'] ?? 0 ),
					(int) ( $report['failed'] ?? 0 )
				) );
		}
		WPF_Bridge_Admin_Notices::flash( 'success', $retry ? 'retried' : 'discarded', $message );
	}

	/**
	 * Runs the queue worker now (without the drain lease: the contact locks and atomic claims
	 * keep it from applying anything twice beside another drain); its report, or null when it
	 * failed (the minute tick tries again).
	 */
	private static function drain_now(): ?array {
		try {
			return (array) WPF_Bridge_Worker::drain( self::RETRY_BUDGET_SECONDS, self::RETRY_MAX_CONTACTS );
		} catch ( \Throwable $e ) {
			return null;
		}
	}

	/**
	 * Renders the page (views/webhooks-page.php) from what load() prepared.
	 */
	public static function render(): void {
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) || ! self::$view ) {
			return;
		}
		WPF_Bridge_Admin_View::render( 'webhooks-page', self::$view );
	}
}
