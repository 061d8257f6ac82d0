<?php
/**
 * Tools > WPF Bridge Log (tools.php?page=wpf-bridge-log): the newest webhooks first, paged,
 * with a nonce'd "Clear log" action.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The log page.
 */
final class WPF_Bridge_Log_Page {

	/** Menu slug: tools.php?page=wpf-bridge-log. */
	public const SLUG = 'wpf-bridge-log';

	/** Entries per page. */
	public const PER_PAGE = 50;

	/**
	 * admin_menu: adds the page and its load-* handler.
	 */
	public static function register(): void {
		$hook = add_management_page(
			__( 'WPF Bridge Log', 'wpf-bridge' ),
			__( 'WPF Bridge Log', 'wpf-bridge' ),
			WPF_Bridge_Settings_Page::CAPABILITY,
			self::SLUG,
			array( self::class, 'render' )
		);
		if ( $hook ) {
			add_action( 'load-' . $hook, array( self::class, 'handle_post' ) );
		}
	}

	/**
	 * The page's URL.
	 *
	 * @param array $args Extra query arguments.
	 */
	public static function url( array $args = array() ): string {
		return add_query_arg( array_merge( array( 'page' => self::SLUG ), $args ), admin_url( 'tools.php' ) );
	}

	/**
	 * load-*: "Clear log".
	 */
	public static function handle_post(): void {
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_POST['wpf_bridge_action'] ) || 'clear_log' !== $_POST['wpf_bridge_action'] ) { // phpcs:ignore WordPress.Security.NonceVerification -- checked below.
			return;
		}
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to clear the log.', 'wpf-bridge' ), 403 );
		}
		check_admin_referer( 'wpf_bridge_clear_log', '_wpf_bridge_clear_log_nonce' );
		WPF_Bridge_Log::clear();
		WPF_Bridge_Admin_Notices::flash( 'success', 'log-cleared', __( 'Log cleared.', 'wpf-bridge' ) );
		wp_safe_redirect( self::url() );
		exit;
	}

	/**
	 * Renders the page.
	 */
	public static function render(): void {
		if ( ! current_user_can( WPF_Bridge_Settings_Page::CAPABILITY ) ) {
			return;
		}
		$total = WPF_Bridge_Log::count();
		$pages = max( 1, (int) ceil( $total / self::PER_PAGE ) );
		$page  = min( $pages, max( 1, isset( $_GET['paged'] ) ? absint( $_GET['paged'] ) : 1 ) ); // phpcs:ignore WordPress.Security.NonceVerification -- read-only paging.
		$rows  = WPF_Bridge_Log::page( $page, self::PER_PAGE );
		?>
		<div class="wrap" id="wpf-bridge-log">
			<h1><?php esc_html_e( 'WPF Bridge Log', 'wpf-bridge' ); ?></h1>
			<p>
				<?php
				/* translators: %d: number of entries kept */
				echo esc_html( sprintf( __( 'One entry per webhook, newest first. The newest %1$d entries are kept, plus the newest %2$d of requests refused before authentication (wrong key or signature), so those can never push out the others. Access keys, request bodies and passwords are never logged.', 'wpf-bridge' ), WPF_Bridge_Log::MAX_ROWS, WPF_Bridge_Log::MAX_REFUSED_ROWS ) );
				?>
				<a href="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>"><?php esc_html_e( 'Settings', 'wpf-bridge' ); ?></a>
			</p>
			<?php WPF_Bridge_Admin_Notices::render_flash(); ?>

			<form method="post" action="<?php echo esc_url( self::url() ); ?>" id="wpf-bridge-clear-log-form">
				<input type="hidden" name="wpf_bridge_action" value="clear_log">
				<?php wp_nonce_field( 'wpf_bridge_clear_log', '_wpf_bridge_clear_log_nonce' ); ?>
				<p>
					<span id="wpf-bridge-log-count">
						<?php
						/* translators: %d: number of entries */
						echo esc_html( sprintf( _n( '%d entry', '%d entries', $total, 'wpf-bridge' ), $total ) );
						?>
					</span>
					<button type="submit" class="button" id="wpf-bridge-clear-log" <?php disabled( 0 === $total ); ?>><?php esc_html_e( 'Clear log', 'wpf-bridge' ); ?></button>
				</p>
			</form>

			<table class="widefat striped" id="wpf-bridge-log-table">
				<thead>
					<tr>
						<th scope="col"><?php esc_html_e( 'Time', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Action', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Contacts', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Users', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Status', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Outcome', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Duration', 'wpf-bridge' ); ?></th>
						<th scope="col"><?php esc_html_e( 'Details', 'wpf-bridge' ); ?></th>
					</tr>
				</thead>
				<tbody>
					<?php if ( ! $rows ) : ?>
						<tr class="wpf-bridge-log-empty"><td colspan="9"><?php esc_html_e( 'No webhooks logged yet.', 'wpf-bridge' ); ?></td></tr>
					<?php endif; ?>
					<?php foreach ( $rows as $row ) : ?>
						<tr class="wpf-bridge-log-entry" data-id="<?php echo esc_attr( (string) $row->id ); ?>" data-status="<?php echo esc_attr( (string) $row->status ); ?>" data-outcome="<?php echo esc_attr( (string) $row->outcome ); ?>">
							<td class="column-time"><?php echo esc_html( get_date_from_gmt( (string) $row->time, 'Y-m-d H:i:s' ) ); ?></td>
							<td class="column-action"><code><?php echo esc_html( (string) $row->action ); ?></code></td>
							<td class="column-crm"><?php echo esc_html( (string) $row->crm ); ?></td>
							<td class="column-contacts"><?php echo esc_html( self::neutralise( str_replace( ',', ', ', (string) $row->contact_ids ) ) ); ?></td>
							<td class="column-users"><?php self::render_user_links( (string) $row->user_ids ); ?></td>
							<td class="column-status"><?php echo esc_html( (string) $row->status ); ?></td>
							<td class="column-outcome"><?php echo esc_html( self::neutralise( str_replace( ',', ', ', (string) $row->outcome ) ) ); ?></td>
							<td class="column-duration"><?php echo esc_html( (string) $row->duration_ms ); ?>&nbsp;ms</td>
							<td class="column-details">
								<?php if ( '' !== (string) $row->details ) : ?>
									<pre style="white-space:pre-wrap;margin:0;max-height:12em;overflow:auto"><?php echo esc_html( self::neutralise( (string) $row->details ) ); ?></pre>
								<?php endif; ?>
							</td>
						</tr>
					<?php endforeach; ?>
				</tbody>
			</table>
			<?php
			$links = paginate_links(
				array(
					'base'    => add_query_arg( 'paged', '%#%', self::url() ),
					'format'  => '',
					'current' => $page,
					'total'   => $pages,
				)
			);
			if ( $links ) {
				echo '<div class="tablenav"><div class="tablenav-pages" id="wpf-bridge-log-pages">' . wp_kses_post( $links ) . '</div></div>';
			}
			?>
		</div>
		<?php
	}

	/**
	 * User ids as links to their profile.
	 *
	 * @param string $user_ids Comma-separated ids.
	 */
	private static function render_user_links( string $user_ids ): void {
		$links = array();
		foreach ( array_filter( array_map( 'absint', explode( ',', $user_ids ) ) ) as $id ) {
			$url     = get_edit_user_link( $id );
			$links[] = '' === $url ? (string) $id : sprintf( '<a href="%s">%d</a>', esc_url( $url ), $id );
		}
		echo implode( ', ', $links ); // phpcs:ignore WordPress.Security.EscapeOutput -- built from escaped parts.
	}

	/**
	 * Untrusted text with Unicode's bidirectional controls replaced by U+FFFD, so a value cannot
	 * make the page show something else than what is stored (escape it as well).
	 */
	private static function neutralise( string $text ): string {
		return (string) preg_replace( '/[\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]/u', "\u{FFFD}", $text );
	}
}
