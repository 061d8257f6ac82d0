<?php
/**
 * The webhooks page's markup: notices, the views, and the list its controller prepared (the
 * events with their contact filter and bulk actions, or the refused or unstored requests).
 * Only prints; WPF_Bridge_Webhooks_Page reads the request and the adapters.
 *
 * @package WPF_Bridge
 *
 * @var array $view filters, problem (a notice code, or null), list (events, refused,
 *                  unstored), table (its WP_List_Table, prepared), failed (events), kept
 *                  (log rows kept), keep_done_days, keep_done_at_most.
 */

defined( 'ABSPATH' ) || exit;

$filters = $view['filters'];
?>
<div class="wrap" id="wpf-bridge-webhooks">
	<h1><?php esc_html_e( 'WPF Bridge Webhooks', 'wpf-bridge' ); ?></h1>
	<?php
	WPF_Bridge_Admin_Notices::render_flash();
	if ( $filters['invalid'] ) {
		WPF_Bridge_Admin_Notices::print_notice( 'warning', 'invalid-filter', __( 'A filter in the address was not understood and is ignored.', 'wpf-bridge' ) );
	}
	if ( 'extension-missing-webhooks' === $view['problem'] ) {
		WPF_Bridge_Admin_Notices::print_notice( 'error', 'extension-missing-webhooks', __( 'The wpf_bridge extension is not loaded: the queue cannot be shown.', 'wpf-bridge' ) );
	}
	?>
	<?php if ( 'extension-missing-webhooks' !== $view['problem'] ) : ?>
		<p>
			<?php
			echo esc_html(
				sprintf(
					/* translators: 1: days, 2: number of events */
					__( 'Every contact event a CRM sends is stored here, then applied; one that fails is retried later, and waits here after its last retry until you retry or discard it. Done and failed events are kept %1$d days after they were settled, and at most the newest %2$s done ones. What an event carried is never shown. Refused requests (wrong key or signature) store nothing: they are listed under "Refused".', 'wpf-bridge' ),
					(int) $view['keep_done_days'],
					number_format_i18n( (int) $view['keep_done_at_most'] )
				)
			);
			?>
			<a href="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>"><?php esc_html_e( 'Settings', 'wpf-bridge' ); ?></a>
		</p>
	<?php endif; ?>
	<?php
	if ( 'queue-unreadable' === $view['problem'] || ( isset( $view['table'] ) && $view['table']->unreadable ) ) {
		WPF_Bridge_Admin_Notices::print_notice( 'error', 'queue-unreadable', __( 'The queue table could not be read.', 'wpf-bridge' ) );
	}
	?>
	<?php if ( isset( $view['table'] ) ) : ?>
		<?php $view['table']->views(); ?>
		<div class="clear"></div>

		<?php if ( 'events' === $view['list'] ) : ?>
			<form method="get" action="<?php echo esc_url( admin_url( 'tools.php' ) ); ?>" id="wpf-bridge-filter-form">
				<input type="hidden" name="page" value="<?php echo esc_attr( WPF_Bridge_Webhooks_Page::SLUG ); ?>">
				<input type="hidden" name="state" value="<?php echo esc_attr( $filters['state'] ); ?>">
				<p class="search-box wpf-bridge-filter">
					<label for="wpf-bridge-filter-contact"><?php esc_html_e( 'CRM contact id', 'wpf-bridge' ); ?></label>
					<input type="search" name="contact" id="wpf-bridge-filter-contact" value="<?php echo esc_attr( $filters['contact'] ); ?>" maxlength="255">
					<button type="submit" class="button" id="wpf-bridge-filter-submit"><?php esc_html_e( 'Filter', 'wpf-bridge' ); ?></button>
					<?php if ( '' !== $filters['contact'] ) : ?>
						<a href="<?php echo esc_url( WPF_Bridge_Webhooks_Page::url( array( 'state' => $filters['state'] ) ) ); ?>" id="wpf-bridge-filter-clear"><?php esc_html_e( 'Every contact', 'wpf-bridge' ); ?></a>
					<?php endif; ?>
				</p>
			</form>

			<?php if ( $view['failed'] > 0 ) : ?>
				<p id="wpf-bridge-bulk-actions">
					<?php
					/* translators: %d: number of failed events */
					echo esc_html( sprintf( _n( '%d event failed.', '%d events failed.', $view['failed'], 'wpf-bridge' ), $view['failed'] ) );
					$all_failed = array(
						'retry_all_failed'   => array( __( 'Retry all failed', 'wpf-bridge' ), 'button button-primary' ),
						'discard_all_failed' => array( __( 'Discard all failed', 'wpf-bridge' ), 'button' ),
					);
					foreach ( $all_failed as $action => list( $label, $class ) ) {
						WPF_Bridge_Admin_View::render(
							'action-form',
							array(
								'action'  => $action,
								'nonce'   => 'wpf_bridge_' . $action,
								'id'      => 0,
								'filters' => $filters,
								'label'   => $label,
								'html_id' => 'wpf-bridge-' . str_replace( '_', '-', $action ),
								'class'   => $class,
							)
						);
					}
					?>
				</p>
			<?php endif; ?>

			<form method="post" id="<?php echo esc_attr( WPF_Bridge_Events_List_Table::BULK_FORM ); ?>" action="<?php echo esc_url( WPF_Bridge_Webhooks_Page::url( array( 'orderby' => $filters['orderby'], 'order' => $filters['order'] ) ) ); ?>">
				<input type="hidden" name="wpf_bridge_action" value="bulk_events">
				<input type="hidden" name="_wpf_bridge_nonce" value="<?php echo esc_attr( wp_create_nonce( 'wpf_bridge_bulk_events' ) ); ?>">
				<input type="hidden" name="state" value="<?php echo esc_attr( $filters['state'] ); ?>">
				<input type="hidden" name="contact" value="<?php echo esc_attr( $filters['contact'] ); ?>">
				<input type="hidden" name="paged" value="<?php echo (int) $filters['paged']; ?>">
			</form>
			<div id="wpf-bridge-events" data-total="<?php echo (int) $view['table']->get_pagination_arg( 'total_items' ); ?>">
				<?php $view['table']->display(); ?>
			</div>
		<?php else : ?>
			<p>
				<?php
				echo esc_html(
					'refused' === $view['list']
						? sprintf(
							/* translators: %d: number of entries kept */
							__( 'Requests refused before authentication (wrong or missing key or signature, unusable parameters): nothing was stored or changed. They are counted per minute, reason and source address; the newest %d rows are kept. Access keys, signatures and bodies are never logged.', 'wpf-bridge' ),
							$view['kept']
						)
						: sprintf(
							/* translators: %d: number of entries kept */
							__( 'Authenticated requests that stored no event: tests, and webhooks refused after authentication (a bad payload, too many events) or that met an error. The newest %d are kept.', 'wpf-bridge' ),
							$view['kept']
						)
				);
				?>
			</p>
			<div id="wpf-bridge-requests" data-total="<?php echo (int) $view['table']->get_pagination_arg( 'total_items' ); ?>">
				<?php $view['table']->display(); ?>
			</div>
		<?php endif; ?>
	<?php endif; ?>
</div>
<?php
