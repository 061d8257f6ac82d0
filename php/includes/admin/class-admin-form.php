<?php
/**
 * The settings page's form rows (text, checkbox, write-only secret), printed by its template.
 * Only prints what it is given: the values, and for a secret whether one is stored or a
 * wp-config.php constant defines it (never the secret).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Form rows of the settings page.
 */
final class WPF_Bridge_Admin_Form {

	/**
	 * Element id of a setting's input: wpf-bridge-{key with dashes}.
	 *
	 * @param string $key Setting key.
	 */
	public static function field_id( string $key ): string {
		return 'wpf-bridge-' . str_replace( '_', '-', $key );
	}

	/**
	 * A text input row.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $settings    Values to show.
	 * @param string $type        Input type.
	 * @param string $description Help text.
	 */
	public static function text_field( string $key, string $label, array $settings, string $type = 'text', string $description = '' ): void {
		$id = self::field_id( $key );
		?>
		<tr>
			<th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
			<td>
				<input type="<?php echo esc_attr( $type ); ?>" class="regular-text" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) ( $settings[ $key ] ?? '' ) ); ?>">
				<?php if ( '' !== $description ) : ?>
					<p class="description" id="<?php echo esc_attr( $id . '-description' ); ?>"><?php echo esc_html( $description ); ?></p>
				<?php endif; ?>
			</td>
		</tr>
		<?php
	}

	/**
	 * A checkbox row.
	 *
	 * @param string $key      Setting key.
	 * @param string $label    Row label.
	 * @param string $text     Text beside the box.
	 * @param array  $settings Values to show.
	 */
	public static function checkbox_field( string $key, string $label, string $text, array $settings ): void {
		$id = self::field_id( $key );
		?>
		<tr>
			<th scope="row"><?php echo esc_html( $label ); ?></th>
			<td>
				<label for="<?php echo esc_attr( $id ); ?>">
					<input type="checkbox" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="1" <?php checked( ! empty( $settings[ $key ] ) ); ?>>
					<?php echo esc_html( $text ); ?>
				</label>
			</td>
		</tr>
		<?php
	}

	/**
	 * A write-only secret row: never shows the stored value, only whether one is stored or a
	 * wp-config.php constant defines it. Empty keeps the stored value; the box clears it.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $secret      state (constant, stored or empty) and constant (its name).
	 * @param string $description Help text.
	 */
	public static function secret_field( string $key, string $label, array $secret, string $description = '' ): void {
		$id    = self::field_id( $key );
		$state = (string) $secret['state'];
		$clear = 'wpf-bridge-clear-' . str_replace( '_', '-', $key );
		?>
		<tr>
			<th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
			<td>
				<input type="password" class="regular-text" name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="" autocomplete="new-password" <?php disabled( 'constant' === $state ); ?>>
				<span class="wpf-bridge-secret-status" id="<?php echo esc_attr( $id . '-status' ); ?>" data-state="<?php echo esc_attr( $state ); ?>">
					<?php
					if ( 'constant' === $state ) {
						/* translators: %s: constant name */
						echo esc_html( sprintf( __( 'Defined in wp-config.php (%s).', 'wpf-bridge' ), (string) $secret['constant'] ) );
					} elseif ( 'stored' === $state ) {
						esc_html_e( '•••• stored. Leave empty to keep it.', 'wpf-bridge' );
					} else {
						esc_html_e( 'Not set.', 'wpf-bridge' );
					}
					?>
				</span>
				<?php if ( 'stored' === $state ) : ?>
					<br><label for="<?php echo esc_attr( $clear ); ?>">
						<input type="checkbox" name="<?php echo esc_attr( "wpf_bridge_clear[{$key}]" ); ?>" id="<?php echo esc_attr( $clear ); ?>" value="1">
						<?php esc_html_e( 'Remove the stored value', 'wpf-bridge' ); ?>
					</label>
				<?php endif; ?>
				<?php if ( '' !== $description ) : ?>
					<p class="description"><?php echo esc_html( $description ); ?></p>
				<?php endif; ?>
			</td>
		</tr>
		<?php
	}
}
