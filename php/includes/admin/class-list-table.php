<?php
/**
 * The webhooks page's lists as WordPress lists them (WP_List_Table): the views with their
 * counts, paging with the screen option "Rows per page", sorting by arrival (newest
 * or oldest first) and the tablenav. The rows come from the queue and log adapters, which read
 * newest first; an oldest-first page is the matching newest-first slice, reversed.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'WP_List_Table' ) ) {
	require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
}

/**
 * A list of the webhooks page.
 */
abstract class WPF_Bridge_List_Table extends WP_List_Table {

	/**
	 * The filters in force (WPF_Bridge_Webhooks_Page::filters()).
	 *
	 * @var array
	 */
	protected array $filters;

	/**
	 * The views' links, built by the controller.
	 *
	 * @var array<string, string>
	 */
	protected array $view_links;

	/** Whether the adapter failed to read the rows. */
	public bool $unreadable = false;

	/**
	 * Sets the list up.
	 *
	 * @param string $plural     Plural name (the table's class).
	 * @param string $singular   Singular name.
	 * @param array  $filters    The filters in force.
	 * @param array  $view_links View => link HTML.
	 */
	public function __construct( string $plural, string $singular, array $filters, array $view_links ) {
		$this->filters    = $filters;
		$this->view_links = $view_links;
		parent::__construct(
			array(
				'plural'   => $plural,
				'singular' => $singular,
				'ajax'     => false,
				'screen'   => get_current_screen(),
			)
		);
	}

	/**
	 * The rows, newest first, from the $offset-th on.
	 *
	 * @param int $offset Rows to skip.
	 * @param int $limit  Rows at most.
	 */
	abstract protected function newest_first( int $offset, int $limit ): array;

	/** How many rows the list pages through. */
	abstract protected function total(): int;

	/**
	 * Reads one page in the order asked for.
	 */
	public function prepare_items(): void {
		$this->_column_headers = $this->get_column_info();
		$per_page              = $this->get_items_per_page( WPF_Bridge_Webhooks_Page::PER_PAGE_OPTION, WPF_Bridge_Webhooks_Page::PER_PAGE );
		try {
			$total = $this->total();
			$pages = max( 1, (int) ceil( $total / $per_page ) );
			$page  = min( $pages, (int) $this->filters['paged'] );
			if ( 'asc' === $this->filters['order'] ) {
				// Oldest first: the newest-first rows at the mirrored place, reversed.
				$end         = $total - ( $page - 1 ) * $per_page;
				$start       = max( 0, $end - $per_page );
				$this->items = array_reverse( $end > 0 ? $this->newest_first( $start, $end - $start ) : array() );
			} else {
				$this->items = $this->newest_first( ( $page - 1 ) * $per_page, $per_page );
			}
		} catch ( \Throwable $e ) {
			$this->unreadable = true;
			$this->items      = array();
			$total            = 0;
		}
		$this->set_pagination_args(
			array(
				'total_items' => $total,
				'per_page'    => $per_page,
				'total_pages' => max( 1, (int) ceil( $total / $per_page ) ),
			)
		);
	}

	/**
	 * The current page number WordPress's pagination reads (the validated filter).
	 */
	public function get_pagenum() {
		$total = (int) ( $this->_pagination_args['total_pages'] ?? 0 );
		$page  = (int) $this->filters['paged'];
		return $total > 0 ? min( $total, $page ) : $page;
	}

	/**
	 * The views (every event, each state, refused, errors and tests) with their counts.
	 *
	 * @return array<string, string>
	 */
	protected function get_views() {
		return $this->view_links;
	}

	/**
	 * Without WordPress's fixed layout, the columns size to their content.
	 *
	 * @return string[]
	 */
	protected function get_table_classes() {
		return array( 'widefat', 'striped', $this->_args['plural'] );
	}

	/**
	 * The tablenav: bulk actions (top), the controller's extra controls, the pages. Not inside
	 * a form: the rows hold their own action forms, and the bulk controls name theirs.
	 *
	 * @param string $which top or bottom.
	 */
	protected function display_tablenav( $which ) {
		?>
		<div class="tablenav <?php echo esc_attr( $which ); ?>">
			<?php if ( 'top' === $which && $this->has_items() && $this->get_bulk_actions() ) : ?>
				<div class="alignleft actions bulkactions"><?php $this->bulk_actions( $which ); ?></div>
			<?php endif; ?>
			<?php $this->pagination( $which ); ?>
			<br class="clear">
		</div>
		<?php
	}
}
