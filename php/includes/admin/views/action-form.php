<?php
/**
 * One action button of the webhooks page in its own POST form, with its own nonce and the
 * filters in force (kept after the redirect; the sort order rides in the form's address).
 *
 * @package WPF_Bridge
 *
 * @var array $view action, nonce (the nonce action), id (event id or 0), filters, label,
 *                  html_id, class.
 */

defined( 'ABSPATH' ) || exit;
?>
<form method="post" class="wpf-bridge-inline-form" action="<?php echo esc_url( WPF_Bridge_Webhooks_Page::url( array( 'orderby' => $view['filters']['orderby'], 'order' => $view['filters']['order'] ) ) ); ?>">
	<input type="hidden" name="wpf_bridge_action" value="<?php echo esc_attr( $view['action'] ); ?>">
	<input type="hidden" name="_wpf_bridge_nonce" value="<?php echo esc_attr( wp_create_nonce( $view['nonce'] ) ); ?>">
	<?php if ( $view['id'] > 0 ) : ?>
		<input type="hidden" name="event_id" value="<?php echo (int) $view['id']; ?>">
	<?php endif; ?>
	<input type="hidden" name="state" value="<?php echo esc_attr( $view['filters']['state'] ); ?>">
	<input type="hidden" name="contact" value="<?php echo esc_attr( $view['filters']['contact'] ); ?>">
	<input type="hidden" name="paged" value="<?php echo (int) $view['filters']['paged']; ?>">
	<button type="submit" class="<?php echo esc_attr( $view['class'] ); ?>" id="<?php echo esc_attr( $view['html_id'] ); ?>"><?php echo esc_html( $view['label'] ); ?></button>
</form>
<?php
