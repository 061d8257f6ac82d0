<?php
/**
 * Tools > WPF Bridge Webhooks (tools.php?page=wpf-bridge-webhooks): the queued contact events,
 * newest first, paged, with their state (pending; retrying and when; in progress; done with
 * its outcome and user; failed with the error), never their data. Filters by state and by
 * contact (GET, validated). Retry and Discard per event and for every failed event: each a
 * POST with its own nonce, for users who can manage options, handled on the page's load-*
 * hook and answered with a redirect and a notice. Two more views read the log table: requests
 * refused before authentication, and the other requests that stored nothing (errors, tests).
 *
 * Which events Retry and Discard may touch is the extension's rule; the queue adapter runs
 * the SQL. The old log page's URL (tools.php?page=wpf-bridge-log) redirects here.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The webhooks page.
 */
final class WPF_Bridge_Webhooks_Page {

	/** Menu slug: tools.php?page=wpf-bridge-webhooks. */
	public const SLUG = 'wpf-bridge-webhooks';

	/** The log page's slug before the queue; its URL redirects here. */
	public const OLD_SLUG = 'wpf-bridge-log';

	/** Rows per page. */
	public const PER_PAGE = 50;

	/** View of the log rows refused before authentication. */
	public const VIEW_REFUSED = 'refused';

	/** View of the other log rows (errors after authentication, tests). */
	public const VIEW_UNSTORED = 'unstored';

	/** Longest contact id the filter takes (the column's width). */
	private const CONTACT_MAX_BYTES = 255;

	/** What a Retry may spend applying the retried events at once. */
	private const RETRY_BUDGET_SECONDS = 10;

	/** Contacts a Retry applies at once at most. */
	private const RETRY_MAX_CONTACTS = 50;

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
			add_action( 'load-' . $hook, array( self::class, 'handle_post' ) );
		}
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
	 * @param array $args Extra query arguments (state: a view, contact, paged); empty ones are left out.
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
	 * The filters of a request (GET for the page, the hidden fields of a POST): a known view,
	 * a contact id of at most 255 bytes of printable UTF-8, a page number. Anything else is
	 * dropped and `invalid` lists what.
	 *
	 * @param array $source $_GET or $_POST (slashed).
	 * @return array{state: string, contact: string, paged: int, invalid: string[]}
	 */
	private static function filters( array $source ): array {
		$invalid = array();
		$view    = isset( $source['state'] ) && is_string( $source['state'] ) ? wp_unslash( $source['state'] ) : '';
		if ( ! array_key_exists( $view, self::views() ) ) {
			$invalid[] = 'state';
			$view      = '';
		}
		$contact = isset( $source['contact'] ) && is_string( $source['contact'] ) ? trim( wp_unslash( $source['contact'] ) ) : '';
		if ( '' !== $contact && ( strlen( $contact ) > self::CONTACT_MAX_BYTES || ! mb_check_encoding( $contact, 'UTF-8' ) || preg_match( '/[\x00-\x1F\x7F]/', $contact ) ) ) {
			$invalid[] = 'contact';
			$contact   = '';
		}
		$paged = isset( $source['paged'] ) && is_scalar( $source['paged'] ) ? absint( $source['paged'] ) : 0;
		return array(
			'state'    => $view,
			'contact' => $contact,
			'paged'   => max( 1, $paged ),
			'invalid' => $invalid,
		);
	}

	/**
	 * load-*: Retry and Discard, of one event or of every failed event.
	 */
	public static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_POST['wpf_bridge_action'] ) || ! is_string( $_POST['wpf_bridge_action'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification -- each action checks its nonce below.
			return;
		}
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to change the webhook queue.', 'wpf-bridge' ), 403 );
		}
		// phpcs:disable WordPress.Security.NonceVerification -- checked per action below, before anything changes.
		$action = sanitize_key( wp_unslash( $_POST['wpf_bridge_action'] ) );
		$id     = isset( $_POST['event_id'] ) && is_scalar( $_POST['event_id'] ) ? absint( $_POST['event_id'] ) : 0;
		$back   = self::filters( $_POST );
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
					'state'    => $back['state'],
					'contact' => $back['contact'],
					'paged'   => $back['paged'] > 1 ? $back['paged'] : '',
				)
			)
		);
		exit;
	}

	/**
	 * Sends events back to the queue, then applies what is due at once (within a small budget;
	 * the minute tick takes the rest).
	 *
	 * @param int[]|null $ids One event, or null for every failed event.
	 */
	private static function retry( ?array $ids ): void {
		try {
			$count = ( new WPF_Bridge_Queue() )->requeue( $ids );
		} catch ( \Throwable $e ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'queue-error', __( 'The queue could not be changed: the database refused. Nothing was retried.', 'wpf-bridge' ) );
			return;
		}
		if ( 0 === $count ) {
			WPF_Bridge_Admin_Notices::flash(
				'warning',
				'nothing-retried',
				null === $ids
					? __( 'There was no failed event to retry.', 'wpf-bridge' )
					/* translators: %d: event id */
					: sprintf( __( 'Event #%d was not retried: only failed and retrying events can be, and a worker may have taken or applied it meanwhile.', 'wpf-bridge' ), (int) $ids[0] )
			);
			return;
		}
		$message = null === $ids
			/* translators: %d: number of events */
			? sprintf( _n( '%d failed event sent back to the queue.', '%d failed events sent back to the queue.', $count, 'wpf-bridge' ), $count )
			/* translators: %d: event id */
			: sprintf( __( 'Event #%d sent back to the queue.', 'wpf-bridge' ), (int) $ids[0] );
		$report = self::drain_now();
		if ( null !== $report ) {
			$message .= ' ' . sprintf(
				/* translators: 1: events done, 2: events retrying, 3: events failed */
				__( 'Applied now: %1$d done, %2$d to retry later, %3$d failed.', 'wpf-bridge' ),
				(int) ( $report['done'] ?? 0 ),
				(int) ( $report['retrying'] ?? 0 ),
				(int) ( $report['failed'] ?? 0 )
			);
		} else {
			$message .= ' ' . __( 'The queue worker applies it within a minute.', 'wpf-bridge' );
		}
		WPF_Bridge_Admin_Notices::flash( 'success', 'retried', $message );
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
	 * Deletes events.
	 *
	 * @param int[]|null $ids One event, or null for every failed event.
	 */
	private static function discard( ?array $ids ): void {
		try {
			$count = ( new WPF_Bridge_Queue() )->discard( $ids );
		} catch ( \Throwable $e ) {
			WPF_Bridge_Admin_Notices::flash( 'error', 'queue-error', __( 'The queue could not be changed: the database refused. Nothing was discarded.', 'wpf-bridge' ) );
			return;
		}
		if ( 0 === $count ) {
			WPF_Bridge_Admin_Notices::flash(
				'warning',
				'nothing-discarded',
				null === $ids
					? __( 'There was no failed event to discard.', 'wpf-bridge' )
					/* translators: %d: event id */
					: sprintf( __( 'Event #%d was not discarded: an event in progress or done cannot be, and a worker may have taken or applied it meanwhile.', 'wpf-bridge' ), (int) $ids[0] )
			);
			return;
		}
		WPF_Bridge_Admin_Notices::flash(
			'success',
			'discarded',
			null === $ids
				/* translators: %d: number of events */
				? sprintf( _n( '%d failed event discarded.', '%d failed events discarded.', $count, 'wpf-bridge' ), $count )
				/* translators: %d: event id */
				: sprintf( __( 'Event #%d discarded.', 'wpf-bridge' ), (int) $ids[0] )
		);
	}

	/**
	 * Renders the page.
	 */
	public static function render(): void {
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			return;
		}
		$filters = self::filters( $_GET ); // phpcs:ignore WordPress.Security.NonceVerification -- read-only filters, validated.
		$rules   = WPF_Bridge_Extension::rules();
		?>
		<div class="wrap" id="wpf-bridge-webhooks">
			<h1><?php esc_html_e( 'WPF Bridge Webhooks', 'wpf-bridge' ); ?></h1>
			<?php WPF_Bridge_Admin_Notices::render_flash(); ?>
			<?php
			if ( $filters['invalid'] ) {
				WPF_Bridge_Admin_Notices::print_notice( 'warning', 'invalid-filter', __( 'A filter in the address was not understood and is ignored.', 'wpf-bridge' ) );
			}
			if ( null === $rules ) {
				WPF_Bridge_Admin_Notices::print_notice( 'error', 'extension-missing-webhooks', __( 'The wpf_bridge extension is not loaded: the queue cannot be shown.', 'wpf-bridge' ) );
				echo '</div>';
				return;
			}
			$settings = WPF_Bridge_Settings::effective();
			?>
			<p>
				<?php
				echo esc_html(
					sprintf(
						/* translators: 1: days, 2: number of events */
						__( 'Every contact event a CRM sends is stored here, then applied; one that fails is retried later, and waits here after its last retry until you retry or discard it. Done and failed events are kept %1$d days after they were settled, and at most the newest %2$s done ones. What an event carried is never shown. Refused requests (wrong key or signature) store nothing: they are listed under "Refused".', 'wpf-bridge' ),
						(int) ( $settings['keep_done_days'] ?? 0 ),
						number_format_i18n( (int) ( $rules['queue']['keep_done_at_most'] ?? 0 ) )
					)
				);
				?>
				<a href="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>"><?php esc_html_e( 'Settings', 'wpf-bridge' ); ?></a>
			</p>
			<?php
			try {
				$queue   = new WPF_Bridge_Queue();
				$summary = $queue->summary();
			} catch ( \Throwable $e ) {
				WPF_Bridge_Admin_Notices::print_notice( 'error', 'queue-unreadable', __( 'The queue table could not be read.', 'wpf-bridge' ) );
				echo '</div>';
				return;
			}
			// The refusal counters of the last minutes become rows before the views count them.
			WPF_Bridge_Refusals::fold();
			self::render_views( $filters, $summary );
			if ( self::VIEW_REFUSED === $filters['state'] || self::VIEW_UNSTORED === $filters['state'] ) {
				self::render_requests( $filters );
			} else {
				self::render_contact_filter( $filters );
				self::render_bulk_actions( $filters, (int) ( $summary['counts']['failed'] ?? 0 ) );
				self::render_events( $queue, $filters, $summary, $rules['queue'] );
			}
			?>
		</div>
		<?php
	}

	/**
	 * The views with their counts.
	 *
	 * @param array $filters The filters in force.
	 * @param array $summary The queue's summary().
	 */
	private static function render_views( array $filters, array $summary ): void {
		$counts = (array) $summary['counts'];
		$links  = array();
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
			$links[] = sprintf(
				'<li><a href="%s" id="%s" data-count="%d"%s>%s <span class="count">(%s)</span></a></li>',
				esc_url( self::url( array( 'state' => $view, 'contact' => $filters['contact'] ) ) ),
				esc_attr( 'wpf-bridge-view-' . ( '' === $view ? 'all' : $view ) ),
				(int) $count,
				$view === $filters['state'] ? ' class="current" aria-current="page"' : '',
				esc_html( $label ),
				esc_html( number_format_i18n( (int) $count ) )
			);
		}
		echo '<ul class="subsubsub" id="wpf-bridge-views">' . implode( ' | ', $links ) . '</ul>'; // phpcs:ignore WordPress.Security.EscapeOutput -- built from escaped parts.
		echo '<div class="clear"></div>';
	}

	/**
	 * The contact filter (a GET form).
	 *
	 * @param array $filters The filters in force.
	 */
	private static function render_contact_filter( array $filters ): void {
		?>
		<form method="get" action="<?php echo esc_url( admin_url( 'tools.php' ) ); ?>" id="wpf-bridge-filter-form">
			<input type="hidden" name="page" value="<?php echo esc_attr( self::SLUG ); ?>">
			<input type="hidden" name="state" value="<?php echo esc_attr( $filters['state'] ); ?>">
			<p class="search-box" style="float:none;margin:8px 0">
				<label for="wpf-bridge-filter-contact"><?php esc_html_e( 'CRM contact id', 'wpf-bridge' ); ?></label>
				<input type="search" name="contact" id="wpf-bridge-filter-contact" value="<?php echo esc_attr( $filters['contact'] ); ?>" maxlength="<?php echo (int) self::CONTACT_MAX_BYTES; ?>">
				<button type="submit" class="button" id="wpf-bridge-filter-submit"><?php esc_html_e( 'Filter', 'wpf-bridge' ); ?></button>
				<?php if ( '' !== $filters['contact'] ) : ?>
					<a href="<?php echo esc_url( self::url( array( 'state' => $filters['state'] ) ) ); ?>" id="wpf-bridge-filter-clear"><?php esc_html_e( 'Every contact', 'wpf-bridge' ); ?></a>
				<?php endif; ?>
			</p>
		</form>
		<?php
	}

	/**
	 * "Retry all failed" and "Discard all failed".
	 *
	 * @param array $filters The filters in force (kept after the action).
	 * @param int   $failed  Failed events.
	 */
	private static function render_bulk_actions( array $filters, int $failed ): void {
		if ( 0 === $failed ) {
			return;
		}
		?>
		<p id="wpf-bridge-bulk-actions">
			<?php
			/* translators: %d: number of failed events */
			echo esc_html( sprintf( _n( '%d event failed.', '%d events failed.', $failed, 'wpf-bridge' ), $failed ) );
			?>
			<?php self::action_form( 'retry_all_failed', 'wpf_bridge_retry_all_failed', 0, $filters, __( 'Retry all failed', 'wpf-bridge' ), 'wpf-bridge-retry-all-failed', 'button button-primary' ); ?>
			<?php self::action_form( 'discard_all_failed', 'wpf_bridge_discard_all_failed', 0, $filters, __( 'Discard all failed', 'wpf-bridge' ), 'wpf-bridge-discard-all-failed', 'button' ); ?>
		</p>
		<?php
	}

	/**
	 * One action button in its own POST form, with its own nonce.
	 *
	 * @param string $action  wpf_bridge_action.
	 * @param string $nonce   Nonce action.
	 * @param int    $id      Event id, or 0.
	 * @param array  $filters The filters in force (sent back, kept after the redirect).
	 * @param string $label   Button text.
	 * @param string $html_id Button id.
	 * @param string $class   Button classes.
	 */
	private static function action_form( string $action, string $nonce, int $id, array $filters, string $label, string $html_id, string $class ): void {
		?>
		<form method="post" action="<?php echo esc_url( self::url() ); ?>" style="display:inline">
			<input type="hidden" name="wpf_bridge_action" value="<?php echo esc_attr( $action ); ?>">
			<input type="hidden" name="_wpf_bridge_nonce" value="<?php echo esc_attr( wp_create_nonce( $nonce ) ); ?>">
			<?php if ( $id > 0 ) : ?>
				<input type="hidden" name="event_id" value="<?php echo (int) $id; ?>">
			<?php endif; ?>
			<input type="hidden" name="state" value="<?php echo esc_attr( $filters['state'] ); ?>">
			<input type="hidden" name="contact" value="<?php echo esc_attr( $filters['contact'] ); ?>">
			<input type="hidden" name="paged" value="<?php echo (int) $filters['paged']; ?>">
			<button type="submit" class="<?php echo esc_attr( $class ); ?>" id="<?php echo esc_attr( $html_id ); ?>"><?php echo esc_html( $label ); ?></button>
		</form>
		<?php
	}

	/**
	 * The queue's events, newest first, one page.
	 *
	 * @param WPF_Bridge_Queue $queue   The queue.
	 * @param array            $filters The filters in force.
	 * @param array            $summary The queue's summary() (for the clock).
	 * @param array            $rules   The extension's queue rules.
	 */
	private static function render_events( WPF_Bridge_Queue $queue, array $filters, array $summary, array $rules ): void {
		$state   = '' === $filters['state'] ? null : $filters['state'];
		$contact = '' === $filters['contact'] ? null : $filters['contact'];
		try {
			$total = $queue->count_listed( $state, $contact );
			$pages = max( 1, (int) ceil( $total / self::PER_PAGE ) );
			$page  = min( $pages, $filters['paged'] );
			$rows  = $queue->list( $state, $contact, self::PER_PAGE, ( $page - 1 ) * self::PER_PAGE );
		} catch ( \Throwable $e ) {
			WPF_Bridge_Admin_Notices::print_notice( 'error', 'queue-unreadable', __( 'The queue table could not be read.', 'wpf-bridge' ) );
			return;
		}
		$now     = (int) $summary['now'];
		$labels  = (array) $rules['states'];
		$retry   = (array) $rules['retry_states'];
		$discard = (array) $rules['discard_states'];
		?>
		<table class="widefat striped" id="wpf-bridge-events" data-total="<?php echo (int) $total; ?>">
			<thead>
				<tr>
					<th scope="col"><?php esc_html_e( 'Event', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Contact', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Accepted', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'State', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Attempts', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Actions', 'wpf-bridge' ); ?></th>
				</tr>
			</thead>
			<tbody>
				<?php if ( ! $rows ) : ?>
					<tr class="wpf-bridge-events-empty"><td colspan="7"><?php esc_html_e( 'No events.', 'wpf-bridge' ); ?></td></tr>
				<?php endif; ?>
				<?php foreach ( $rows as $row ) : ?>
					<?php $id = (int) $row['id']; ?>
					<tr class="wpf-bridge-event" id="<?php echo esc_attr( 'wpf-bridge-event-' . $id ); ?>" data-id="<?php echo (int) $id; ?>" data-state="<?php echo esc_attr( (string) $row['state'] ); ?>">
						<td class="column-id">#<?php echo (int) $id; ?></td>
						<td class="column-contact"><a href="<?php echo esc_url( self::url( array( 'state' => $filters['state'], 'contact' => (string) $row['contact_id'] ) ) ); ?>"><?php echo esc_html( self::neutralise( (string) $row['contact_id'] ) ); ?></a></td>
						<td class="column-crm"><?php echo esc_html( (string) $row['crm'] ); ?></td>
						<td class="column-accepted"><?php echo esc_html( self::when( (int) $row['accepted_at'], $now ) ); ?></td>
						<td class="column-state"><?php self::render_state( $row, $labels, $now ); ?></td>
						<td class="column-attempts"><?php echo (int) $row['attempts']; ?></td>
						<td class="column-actions">
							<?php
							if ( in_array( $row['state'], $retry, true ) ) {
								self::action_form( 'retry_event', 'wpf_bridge_retry_event_' . $id, $id, $filters, __( 'Retry', 'wpf-bridge' ), 'wpf-bridge-retry-' . $id, 'button button-small' );
							}
							if ( in_array( $row['state'], $discard, true ) ) {
								self::action_form( 'discard_event', 'wpf_bridge_discard_event_' . $id, $id, $filters, __( 'Discard', 'wpf-bridge' ), 'wpf-bridge-discard-' . $id, 'button button-small button-link-delete' );
							}
							?>
						</td>
					</tr>
				<?php endforeach; ?>
			</tbody>
		</table>
		<?php
		self::render_pages( $filters, $page, $pages );
	}

	/**
	 * One event's state and what goes with it.
	 *
	 * @param array $row    A list() row.
	 * @param array $labels State => label.
	 * @param int   $now    The database's clock.
	 */
	private static function render_state( array $row, array $labels, int $now ): void {
		$state = (string) $row['state'];
		echo '<strong class="wpf-bridge-state">' . esc_html( (string) ( $labels[ $state ] ?? $state ) ) . '</strong>';
		switch ( $state ) {
			case 'retrying':
				echo '<br><span class="wpf-bridge-next-attempt">' . esc_html(
					sprintf(
						/* translators: %s: date and time, with how long from now */
						__( 'Next attempt: %s', 'wpf-bridge' ),
						self::when( (int) $row['due_at'], $now )
					)
				) . '</span>';
				break;
			case 'claimed':
				echo '<br><span class="wpf-bridge-in-progress">' . esc_html__( 'A worker is applying it.', 'wpf-bridge' ) . '</span>';
				break;
			case 'done':
				echo '<br><code class="wpf-bridge-outcome">' . esc_html( (string) $row['outcome'] ) . '</code>';
				$user = (int) $row['user_id'];
				if ( $user > 0 ) {
					$link = get_edit_user_link( $user );
					/* translators: %d: user id */
					$text = sprintf( __( 'user #%d', 'wpf-bridge' ), $user );
					echo ' ' . ( '' === $link
						? '<span class="wpf-bridge-user">' . esc_html( $text ) . '</span>'
						: '<a class="wpf-bridge-user" href="' . esc_url( $link ) . '">' . esc_html( $text ) . '</a>' );
				}
				break;
		}
		if ( in_array( $state, array( 'retrying', 'failed' ), true ) && '' !== (string) $row['error_code'] ) {
			echo '<br><code class="wpf-bridge-error-code">' . esc_html( (string) $row['error_code'] ) . '</code> <span class="wpf-bridge-error-message">' . esc_html( self::neutralise( (string) $row['error_message'] ) ) . '</span>';
		}
	}

	/**
	 * The log rows of the refused or the unstored view, newest first, one page.
	 *
	 * @param array $filters The filters in force.
	 */
	private static function render_requests( array $filters ): void {
		$refused = self::VIEW_REFUSED === $filters['state'];
		$total   = WPF_Bridge_Log::count( $refused );
		$pages   = max( 1, (int) ceil( $total / self::PER_PAGE ) );
		$page    = min( $pages, $filters['paged'] );
		$rows    = WPF_Bridge_Log::page( $page, self::PER_PAGE, $refused );
		?>
		<p>
			<?php
			echo esc_html(
				$refused
					? sprintf(
						/* translators: %d: number of entries kept */
						__( 'Requests refused before authentication (wrong or missing key or signature, unusable parameters): nothing was stored or changed. They are counted per minute, reason and source address; the newest %d rows are kept. Access keys, signatures and bodies are never logged.', 'wpf-bridge' ),
						WPF_Bridge_Log::MAX_REFUSED_ROWS
					)
					: sprintf(
						/* translators: %d: number of entries kept */
						__( 'Authenticated requests that stored no event: tests, and webhooks refused after authentication (a bad payload, too many events) or that met an error. The newest %d are kept.', 'wpf-bridge' ),
						WPF_Bridge_Log::MAX_ROWS
					)
			);
			?>
		</p>
		<table class="widefat striped" id="wpf-bridge-requests" data-total="<?php echo (int) $total; ?>">
			<thead>
				<tr>
					<th scope="col"><?php esc_html_e( 'Time', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Action', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></th>
					<?php if ( $refused ) : ?>
						<th scope="col"><?php esc_html_e( 'Source address', 'wpf-bridge' ); ?></th>
					<?php else : ?>
						<th scope="col"><?php esc_html_e( 'Contacts', 'wpf-bridge' ); ?></th>
					<?php endif; ?>
					<th scope="col"><?php esc_html_e( 'Status', 'wpf-bridge' ); ?></th>
					<th scope="col"><?php esc_html_e( 'Code', 'wpf-bridge' ); ?></th>
					<?php if ( $refused ) : ?>
						<th scope="col"><?php esc_html_e( 'Requests that minute', 'wpf-bridge' ); ?></th>
					<?php else : ?>
						<th scope="col"><?php esc_html_e( 'Details', 'wpf-bridge' ); ?></th>
					<?php endif; ?>
				</tr>
			</thead>
			<tbody>
				<?php if ( ! $rows ) : ?>
					<tr class="wpf-bridge-requests-empty"><td colspan="7"><?php esc_html_e( 'No requests.', 'wpf-bridge' ); ?></td></tr>
				<?php endif; ?>
				<?php foreach ( $rows as $row ) : ?>
					<tr class="wpf-bridge-request" data-id="<?php echo esc_attr( (string) $row->id ); ?>" data-status="<?php echo esc_attr( (string) $row->status ); ?>" data-outcome="<?php echo esc_attr( (string) $row->outcome ); ?>" data-hits="<?php echo esc_attr( (string) $row->hits ); ?>">
						<td class="column-time"><?php echo esc_html( get_date_from_gmt( (string) $row->time, 'Y-m-d H:i:s' ) ); ?></td>
						<td class="column-action"><code><?php echo esc_html( (string) $row->action ); ?></code></td>
						<td class="column-crm"><?php echo esc_html( (string) $row->crm ); ?></td>
						<?php if ( $refused ) : ?>
							<td class="column-source"><?php echo esc_html( (string) $row->source ); ?></td>
						<?php else : ?>
							<td class="column-contacts"><?php echo esc_html( self::neutralise( str_replace( ',', ', ', (string) $row->contact_ids ) ) ); ?></td>
						<?php endif; ?>
						<td class="column-status"><?php echo esc_html( (string) $row->status ); ?></td>
						<td class="column-outcome"><code><?php echo esc_html( self::neutralise( str_replace( ',', ', ', (string) $row->outcome ) ) ); ?></code></td>
						<?php if ( $refused ) : ?>
							<td class="column-hits"><?php echo esc_html( number_format_i18n( (int) $row->hits ) ); ?></td>
						<?php else : ?>
							<td class="column-details">
								<?php if ( '' !== (string) $row->details ) : ?>
									<pre style="white-space:pre-wrap;margin:0;max-height:12em;overflow:auto"><?php echo esc_html( self::neutralise( (string) $row->details ) ); ?></pre>
								<?php endif; ?>
							</td>
						<?php endif; ?>
					</tr>
				<?php endforeach; ?>
			</tbody>
		</table>
		<?php
		self::render_pages( $filters, $page, $pages );
	}

	/**
	 * The page links.
	 *
	 * @param array $filters The filters in force.
	 * @param int   $page    Current page.
	 * @param int   $pages   Pages.
	 */
	private static function render_pages( array $filters, int $page, int $pages ): void {
		$links = paginate_links(
			array(
				'base'    => add_query_arg( 'paged', '%#%', self::url( array( 'state' => $filters['state'], 'contact' => $filters['contact'] ) ) ),
				'format'  => '',
				'current' => $page,
				'total'   => $pages,
			)
		);
		if ( $links ) {
			echo '<div class="tablenav"><div class="tablenav-pages" id="wpf-bridge-pages">' . wp_kses_post( $links ) . '</div></div>';
		}
	}

	/**
	 * A time as the site shows dates, with how long ago or from now.
	 *
	 * @param int $time Unix seconds.
	 * @param int $now  The database's clock.
	 */
	private static function when( int $time, int $now ): string {
		if ( $time <= 0 ) {
			return '';
		}
		$date = (string) wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $time );
		if ( abs( $now - $time ) < 1 ) {
			return $date;
		}
		return sprintf(
			$time <= $now
				/* translators: 1: date and time, 2: a duration such as "5 mins" */
				? __( '%1$s (%2$s ago)', 'wpf-bridge' )
				/* translators: 1: date and time, 2: a duration such as "5 mins" */
				: __( '%1$s (in %2$s)', 'wpf-bridge' ),
			$date,
			human_time_diff( $time, $now )
		);
	}

	/**
	 * Untrusted text with Unicode's bidirectional controls replaced by U+FFFD, so a value cannot
	 * make the page show something else than what is stored (escape it as well).
	 */
	private static function neutralise( string $text ): string {
		return (string) preg_replace( '/[\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]/u', "\u{FFFD}", $text );
	}
}
