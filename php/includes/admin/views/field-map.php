<?php
/**
 * A field map's table of rows (CRM field alias => WordPress field), printed inside a form: the
 * settings form's (`wpf_bridge[field_map]`) and the sources form's
 * (`wpf_bridge_source[field_map]`). The WordPress field suggests the core user fields (the
 * page's datalist #wpf-bridge-wp-fields). Only prints what it is handed.
 *
 * @package WPF_Bridge
 *
 * @var array $view rows (list of [crm field, wp field]), input (the inputs' array name), id (the
 *                  table's element id; each input's is {id}-{row}-crm / -wp).
 */

defined( 'ABSPATH' ) || exit;
?>
<table class="widefat striped wpf-bridge-field-map" id="<?php echo esc_attr( $view['id'] ); ?>">
	<thead>
		<tr>
			<th scope="col"><?php esc_html_e( 'CRM field alias', 'wpf-bridge' ); ?></th>
			<th scope="col"><?php esc_html_e( 'WordPress field', 'wpf-bridge' ); ?></th>
		</tr>
	</thead>
	<tbody>
		<?php foreach ( $view['rows'] as $i => list( $crm_field, $wp_field ) ) : ?>
			<tr>
				<td>
					<input type="text" class="regular-text" name="<?php echo esc_attr( "{$view['input']}[{$i}][crm]" ); ?>" id="<?php echo esc_attr( "{$view['id']}-{$i}-crm" ); ?>" value="<?php echo esc_attr( $crm_field ); ?>" aria-label="<?php esc_attr_e( 'CRM field alias', 'wpf-bridge' ); ?>">
				</td>
				<td>
					<input type="text" class="regular-text" list="wpf-bridge-wp-fields" name="<?php echo esc_attr( "{$view['input']}[{$i}][wp]" ); ?>" id="<?php echo esc_attr( "{$view['id']}-{$i}-wp" ); ?>" value="<?php echo esc_attr( $wp_field ); ?>" aria-label="<?php esc_attr_e( 'WordPress field', 'wpf-bridge' ); ?>">
				</td>
			</tr>
		<?php endforeach; ?>
	</tbody>
</table>
<?php
