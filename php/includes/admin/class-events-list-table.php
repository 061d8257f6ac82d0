<?php
/**
 * The queued contact events of the webhooks page, as a WP_List_Table: one page of the queue
 * adapter's list() (of one state and one contact, if filtered), each event's state and what
 * goes with it (the next attempt, the outcome and user, the error), never its data. Retry and
 * Discard per event (each its own form and nonce) where the extension's rules allow them, and
 * as bulk actions on the checked events (one form, one nonce).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The events list.
 */
final class WPF_Bridge_Events_List_Table extends WPF_Bridge_List_Table {

	/** The form the bulk controls and checkboxes belong to (rendered beside the table). */
	public const BULK_FORM = 'wpf-bridge-bulk-form';

	/**
	 * The extension's queue rules: states (labels), retry_states, discard_states.
	 *
	 * @var array
	 */
	private array $rules;

	/** The database's clock. */
	private int $now;

	/**
	 * Sets the list up.
	 *
	 * @param array $rules      The extension's queue rules.
	 * @param int   $now        The database's clock.
	 * @param array $filters    The filters in force.
	 * @param array $view_links View => link HTML.
	 */
	public function __construct( array $rules, int $now, array $filters, array $view_links ) {
		$this->rules = $rules;
		$this->now   = $now;
		parent::__construct( 'events', 'event', $filters, $view_links );
	}

	/** The state filter for the adapter (null: every state). */
	private function state(): ?string {
		return '' === $this->filters['state'] ? null : $this->filters['state'];
	}

	/** The contact filter for the adapter (null: every contact). */
	private function contact(): ?string {
		return '' === $this->filters['contact'] ? null : $this->filters['contact'];
	}

	/**
	 * Rows, newest first.
	 *
	 * @param int $offset Rows to skip.
	 * @param int $limit  Rows at most.
	 */
	protected function newest_first( int $offset, int $limit ): array {
		return WPF_Bridge_Queue_Admin::list( $this->state(), $this->contact(), $limit, $offset );
	}

	/** Events listed in all. */
	protected function total(): int {
		return WPF_Bridge_Queue_Admin::count_listed( $this->state(), $this->contact() );
	}

	/**
	 * The columns.
	 *
	 * @return array<string, string>
	 */
	public function get_columns() {
		return array(
			'cb'       => '<input type="checkbox">',
			'event'    => __( 'Event', 'wpf-bridge' ),
			'contact'  => __( 'Contact', 'wpf-bridge' ),
			'crm'      => __( 'CRM', 'wpf-bridge' ),
			'accepted' => __( 'Accepted', 'wpf-bridge' ),
			'state'    => __( 'State', 'wpf-bridge' ),
			'attempts' => __( 'Attempts', 'wpf-bridge' ),
			'actions'  => __( 'Actions', 'wpf-bridge' ),
		);
	}

	/**
	 * Events sort by arrival; the first click on the header shows the oldest first.
	 *
	 * @return array<string, array>
	 */
	protected function get_sortable_columns() {
		return array( 'event' => array( 'id', false ) );
	}

	/** The column holding the row's toggle on small screens. */
	protected function get_default_primary_column_name() {
		return 'event';
	}

	/**
	 * Bulk actions on the checked events.
	 *
	 * @return array<string, string>
	 */
	protected function get_bulk_actions() {
		return array(
			'retry'   => __( 'Retry', 'wpf-bridge' ),
			'discard' => __( 'Discard', 'wpf-bridge' ),
		);
	}

	/**
	 * The bulk action selector and its button, belonging to the bulk form.
	 *
	 * @param string $which top (only there).
	 */
	protected function bulk_actions( $which = '' ) {
		?>
		<label for="wpf-bridge-bulk-action" class="screen-reader-text"><?php esc_html_e( 'Select bulk action', 'wpf-bridge' ); ?></label>
		<select name="wpf_bridge_bulk" id="wpf-bridge-bulk-action" form="<?php echo esc_attr( self::BULK_FORM ); ?>">
			<option value=""><?php esc_html_e( 'Bulk actions', 'wpf-bridge' ); ?></option>
			<?php foreach ( $this->get_bulk_actions() as $action => $label ) : ?>
				<option value="<?php echo esc_attr( $action ); ?>"><?php echo esc_html( $label ); ?></option>
			<?php endforeach; ?>
		</select>
		<button type="submit" class="button action" id="wpf-bridge-bulk-apply" form="<?php echo esc_attr( self::BULK_FORM ); ?>"><?php esc_html_e( 'Apply', 'wpf-bridge' ); ?></button>
		<?php
	}

	/** Shown when no event matches. */
	public function no_items() {
		echo '<span class="wpf-bridge-events-empty">' . esc_html__( 'No events.', 'wpf-bridge' ) . '</span>';
	}

	/**
	 * One event's row.
	 *
	 * @param array $item A list() row.
	 */
	public function single_row( $item ) {
		$id = (int) $item['id'];
		printf( '<tr class="wpf-bridge-event" id="%s" data-id="%d" data-state="%s">', esc_attr( 'wpf-bridge-event-' . $id ), $id, esc_attr( (string) $item['state'] ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped parts.
		$this->single_row_columns( $item );
		echo '</tr>';
	}

	/**
	 * Whether an administrator may retry or discard the event.
	 *
	 * @param array  $item  A list() row.
	 * @param string $which retry_states or discard_states.
	 */
	private function may( array $item, string $which ): bool {
		return in_array( $item['state'], (array) ( $this->rules[ $which ] ?? array() ), true );
	}

	/**
	 * The checkbox of an event a bulk action may touch.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_cb( $item ) {
		if ( ! $this->may( $item, 'retry_states' ) && ! $this->may( $item, 'discard_states' ) ) {
			return '';
		}
		$id = (int) $item['id'];
		return sprintf(
			'<label class="screen-reader-text" for="%1$s">%2$s</label><input type="checkbox" id="%1$s" name="events[]" value="%3$d" form="%4$s">',
			esc_attr( 'wpf-bridge-select-' . $id ),
			/* translators: %d: event id */
			esc_html( sprintf( __( 'Select event #%d', 'wpf-bridge' ), $id ) ),
			$id,
			esc_attr( self::BULK_FORM )
		);
	}

	/**
	 * The event's id.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_event( $item ) {
		return '#' . (int) $item['id'];
	}

	/**
	 * The contact, a link to its events.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_contact( $item ) {
		$url = WPF_Bridge_Webhooks_Page::url(
			array(
				'state'   => $this->filters['state'],
				'contact' => (string) $item['contact_id'],
			)
		);
		return '<a href="' . esc_url( $url ) . '">' . esc_html( WPF_Bridge_Admin_View::neutralise( (string) $item['contact_id'] ) ) . '</a>';
	}

	/**
	 * The CRM.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_crm( $item ) {
		return esc_html( (string) $item['crm'] );
	}

	/**
	 * When the event was accepted.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_accepted( $item ) {
		return esc_html( WPF_Bridge_Admin_View::when( (int) $item['accepted_at'], $this->now ) );
	}

	/**
	 * Attempts so far.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_attempts( $item ) {
		return (string) (int) $item['attempts'];
	}

	/**
	 * The state and what goes with it: the next attempt, the outcome and user, the error.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_state( $item ) {
		$state  = (string) $item['state'];
		$labels = (array) ( $this->rules['states'] ?? array() );
		$out    = '<strong class="wpf-bridge-state">' . esc_html( (string) ( $labels[ $state ] ?? $state ) ) . '</strong>';
		switch ( $state ) {
			case 'retrying':
				$out .= '<br><span class="wpf-bridge-next-attempt">' . esc_html(
					sprintf(
						/* translators: %s: date and time, with how long from now */
						__( 'Next attempt: %s', 'wpf-bridge' ),
						WPF_Bridge_Admin_View::when( (int) $item['due_at'], $this->now )
					)
				) . '</span>';
				break;
			case 'claimed':
				$out .= '<br><span class="wpf-bridge-in-progress">' . esc_html__( 'A worker is applying it.', 'wpf-bridge' ) . '</span>';
				break;
			case 'done':
				$out .= '<br><code class="wpf-bridge-outcome">' . esc_html( (string) $item['outcome'] ) . '</code>';
				$user = (int) $item['user_id'];
				if ( $user > 0 ) {
					$link = get_edit_user_link( $user );
					/* translators: %d: user id */
					$text = sprintf( __( 'user #%d', 'wpf-bridge' ), $user );
					$out .= ' ' . ( '' === $link
						? '<span class="wpf-bridge-user">' . esc_html( $text ) . '</span>'
						: '<a class="wpf-bridge-user" href="' . esc_url( $link ) . '">' . esc_html( $text ) . '</a>' );
				}
				break;
		}
		if ( in_array( $state, array( 'retrying', 'failed' ), true ) && '' !== (string) $item['error_code'] ) {
			$out .= '<br><code class="wpf-bridge-error-code">' . esc_html( (string) $item['error_code'] ) . '</code> <span class="wpf-bridge-error-message">' . esc_html( WPF_Bridge_Admin_View::neutralise( (string) $item['error_message'] ) ) . '</span>';
		}
		return $out;
	}

	/**
	 * Retry and Discard, each in its own form with its own nonce, where the rules allow.
	 *
	 * @param array $item A list() row.
	 */
	protected function column_actions( $item ) {
		$id  = (int) $item['id'];
		$out = '';
		if ( $this->may( $item, 'retry_states' ) ) {
			$out .= $this->action_form( 'retry_event', 'wpf_bridge_retry_event_' . $id, $id, __( 'Retry', 'wpf-bridge' ), 'wpf-bridge-retry-' . $id, 'button button-small' );
		}
		if ( $this->may( $item, 'discard_states' ) ) {
			$out .= $this->action_form( 'discard_event', 'wpf_bridge_discard_event_' . $id, $id, __( 'Discard', 'wpf-bridge' ), 'wpf-bridge-discard-' . $id, 'button button-small button-link-delete' );
		}
		return $out;
	}

	/**
	 * One event's action form.
	 *
	 * @param string $action  wpf_bridge_action.
	 * @param string $nonce   Nonce action.
	 * @param int    $id      Event id.
	 * @param string $label   Button text.
	 * @param string $html_id Button id.
	 * @param string $class   Button classes.
	 */
	private function action_form( string $action, string $nonce, int $id, string $label, string $html_id, string $class ): string {
		ob_start();
		WPF_Bridge_Admin_View::render(
			'action-form',
			array(
				'action'  => $action,
				'nonce'   => $nonce,
				'id'      => $id,
				'filters' => $this->filters,
				'label'   => $label,
				'html_id' => $html_id,
				'class'   => $class,
			)
		);
		return (string) ob_get_clean();
	}
}
