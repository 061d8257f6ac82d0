<?php
/**
 * The log rows of the webhooks page, as a WP_List_Table: the requests refused before
 * authentication (counted per minute, reason and source address) or the other requests that
 * stored no event (errors after authentication, tests), one page of the log adapter's rows.
 * Read-only: nothing to retry or discard.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The refused or the unstored requests.
 */
final class WPF_Bridge_Requests_List_Table extends WPF_Bridge_List_Table {

	/** Whether this lists the refused requests (else the unstored ones). */
	private bool $refused;

	/**
	 * Sets the list up.
	 *
	 * @param bool  $refused    The refused requests, or the unstored ones.
	 * @param array $filters    The filters in force.
	 * @param array $view_links View => link HTML.
	 */
	public function __construct( bool $refused, array $filters, array $view_links ) {
		$this->refused = $refused;
		parent::__construct( 'requests', 'request', $filters, $view_links );
	}

	/**
	 * Rows, newest first, from the $offset-th on, read through the log's pages.
	 *
	 * @param int $offset Rows to skip.
	 * @param int $limit  Rows at most.
	 */
	protected function newest_first( int $offset, int $limit ): array {
		if ( $limit <= 0 ) {
			return array();
		}
		$first = intdiv( $offset, $limit ) + 1;
		$rows  = WPF_Bridge_Log::page( $first, $limit, $this->refused );
		if ( 0 !== $offset % $limit ) {
			$rows = array_merge( $rows, WPF_Bridge_Log::page( $first + 1, $limit, $this->refused ) );
		}
		return array_slice( $rows, $offset % $limit, $limit );
	}

	/** Rows in all. */
	protected function total(): int {
		return WPF_Bridge_Log::count( $this->refused );
	}

	/**
	 * The columns: the refused requests show the source and the count of that minute, the
	 * others the contacts and the details.
	 *
	 * @return array<string, string>
	 */
	public function get_columns() {
		return array( 'time' => __( 'Time', 'wpf-bridge' ) )
			+ array(
				'action' => __( 'Action', 'wpf-bridge' ),
				'crm'    => __( 'CRM', 'wpf-bridge' ),
			)
			+ ( $this->refused
				? array( 'source' => __( 'Source address', 'wpf-bridge' ) )
				: array( 'contacts' => __( 'Contacts', 'wpf-bridge' ) ) )
			+ array(
				'status'  => __( 'Status', 'wpf-bridge' ),
				'outcome' => __( 'Code', 'wpf-bridge' ),
			)
			+ ( $this->refused
				? array( 'hits' => __( 'Requests that minute', 'wpf-bridge' ) )
				: array( 'details' => __( 'Details', 'wpf-bridge' ) ) );
	}

	/**
	 * Requests sort by arrival; the first click on the header shows the oldest first.
	 *
	 * @return array<string, array>
	 */
	protected function get_sortable_columns() {
		return array( 'time' => array( 'id', false ) );
	}

	/** The column holding the row's toggle on small screens. */
	protected function get_default_primary_column_name() {
		return 'time';
	}

	/** Shown when there is no request. */
	public function no_items() {
		echo '<span class="wpf-bridge-requests-empty">' . esc_html__( 'No requests.', 'wpf-bridge' ) . '</span>';
	}

	/**
	 * One request's row.
	 *
	 * @param object $item A log row.
	 */
	public function single_row( $item ) {
		printf(
			'<tr class="wpf-bridge-request" data-id="%s" data-status="%s" data-outcome="%s" data-hits="%s">',
			esc_attr( (string) $item->id ),
			esc_attr( (string) $item->status ),
			esc_attr( (string) $item->outcome ),
			esc_attr( (string) $item->hits )
		);
		$this->single_row_columns( $item );
		echo '</tr>';
	}

	/**
	 * A cell.
	 *
	 * @param object $item        A log row.
	 * @param string $column_name The column.
	 */
	protected function column_default( $item, $column_name ) {
		switch ( $column_name ) {
			case 'time':
				return esc_html( get_date_from_gmt( (string) $item->time, 'Y-m-d H:i:s' ) );
			case 'action':
				return '<code>' . esc_html( (string) $item->action ) . '</code>';
			case 'crm':
				return esc_html( (string) $item->crm );
			case 'source':
				return esc_html( (string) $item->source );
			case 'contacts':
				return esc_html( WPF_Bridge_Admin_View::neutralise( str_replace( ',', ', ', (string) $item->contact_ids ) ) );
			case 'status':
				return esc_html( (string) $item->status );
			case 'outcome':
				return '<code>' . esc_html( WPF_Bridge_Admin_View::neutralise( str_replace( ',', ', ', (string) $item->outcome ) ) ) . '</code>';
			case 'hits':
				return esc_html( number_format_i18n( (int) $item->hits ) );
			case 'details':
				return '' === (string) $item->details ? '' : '<pre class="wpf-bridge-details">' . esc_html( WPF_Bridge_Admin_View::neutralise( (string) $item->details ) ) . '</pre>';
		}
		return '';
	}
}
