<?php
/**
 * The settings page's form rows (text, select, checkbox, write-only secret), printed by its
 * templates: the settings form's (`wpf_bridge[key]`) and the sources form's (SOURCE_FORM,
 * `wpf_bridge_source[key]`). Only prints what it is given: the values, and for a secret whether
 * one is stored or a wp-config.php constant defines it (never the secret).
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Form rows of the settings page.
 */
final class WPF_Bridge_Admin_Form {

	/**
	 * The settings form's names: the inputs' array, the secrets' clear boxes' array, the
	 * element ids' prefix, and the class of each row.
	 */
	public const SETTINGS_FORM = array(
		'input' => 'wpf_bridge',
		'clear' => 'wpf_bridge_clear',
		'id'    => 'wpf-bridge-',
		'class' => '',
	);

	/** The sources form's names (views/sources.php). */
	public const SOURCE_FORM = array(
		'input' => 'wpf_bridge_source',
		'clear' => 'wpf_bridge_source_clear',
		'id'    => 'wpf-bridge-source-',
		'class' => '',
	);

	/**
	 * Element id of a setting's input: wpf-bridge-{key with dashes} (the form's prefix).
	 *
	 * @param string $key  Setting key.
	 * @param array  $form The form's names (SETTINGS_FORM or SOURCE_FORM).
	 */
	public static function field_id( string $key, array $form = self::SETTINGS_FORM ): string {
		return $form['id'] . str_replace( '_', '-', $key );
	}

	/**
	 * A text input row.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $settings    Values to show.
	 * @param string $type        Input type.
	 * @param string $description Help text.
	 * @param array  $form        The form's names (SETTINGS_FORM or SOURCE_FORM).
	 */
	public static function text_field( string $key, string $label, array $settings, string $type = 'text', string $description = '', array $form = self::SETTINGS_FORM ): void {
		$id = self::field_id( $key, $form );
		self::open_row( $id, $label, $form );
		?>
				<input type="<?php echo esc_attr( $type ); ?>" class="regular-text" name="<?php echo esc_attr( "{$form['input']}[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) ( $settings[ $key ] ?? '' ) ); ?>">
		<?php
		self::close_row( $id, $description );
	}

	/**
	 * A select row.
	 *
	 * @param string $key         Setting key.
	 * @param string $label       Label.
	 * @param array  $options     Value => text.
	 * @param array  $settings    Values to show.
	 * @param string $description Help text.
	 */
	public static function select_field( string $key, string $label, array $options, array $settings, string $description = '' ): void {
		$id = self::field_id( $key );
		self::open_row( $id, $label );
		?>
				<select name="<?php echo esc_attr( "wpf_bridge[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>">
					<?php foreach ( $options as $value => $text ) : ?>
						<option value="<?php echo esc_attr( (string) $value ); ?>" <?php selected( (string) ( $settings[ $key ] ?? '' ), (string) $value ); ?>><?php echo esc_html( (string) $text ); ?></option>
					<?php endforeach; ?>
				</select>
		<?php
		self::close_row( $id, $description );
	}

	/**
	 * A checkbox row.
	 *
	 * @param string $key      Setting key.
	 * @param string $label    Row label.
	 * @param string $text     Text beside the box.
	 * @param array  $settings Values to show.
	 * @param array  $form     The form's names (SETTINGS_FORM or SOURCE_FORM).
	 */
	public static function checkbox_field( string $key, string $label, string $text, array $settings, array $form = self::SETTINGS_FORM ): void {
		$id = self::field_id( $key, $form );
		self::open_tr( $form );
		?>
			<th scope="row"><?php echo esc_html( $label ); ?></th>
			<td>
				<label for="<?php echo esc_attr( $id ); ?>">
					<input type="checkbox" name="<?php echo esc_attr( "{$form['input']}[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="1" <?php checked( ! empty( $settings[ $key ] ) ); ?>>
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
	 * @param array  $form        The form's names (SETTINGS_FORM or SOURCE_FORM).
	 */
	public static function secret_field( string $key, string $label, array $secret, string $description = '', array $form = self::SETTINGS_FORM ): void {
		$id    = self::field_id( $key, $form );
		$state = (string) $secret['state'];
		$clear = self::field_id( 'clear_' . $key, $form );
		self::open_row( $id, $label, $form );
		?>
				<input type="password" class="regular-text" name="<?php echo esc_attr( "{$form['input']}[{$key}]" ); ?>" id="<?php echo esc_attr( $id ); ?>" value="" autocomplete="new-password" <?php disabled( 'constant' === $state ); ?>>
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
						<input type="checkbox" name="<?php echo esc_attr( "{$form['clear']}[{$key}]" ); ?>" id="<?php echo esc_attr( $clear ); ?>" value="1">
						<?php esc_html_e( 'Remove the stored value', 'wpf-bridge' ); ?>
					</label>
				<?php endif; ?>
		<?php
		self::close_row( $id, $description );
	}

	/**
	 * A row's start, with the form's row class when it has one.
	 *
	 * @param array $form The form's names.
	 */
	private static function open_tr( array $form ): void {
		echo '' === $form['class'] ? '<tr>' : '<tr class="' . esc_attr( $form['class'] ) . '">';
	}

	/**
	 * A row's label cell and the start of its field cell.
	 *
	 * @param string $id    The field's element id.
	 * @param string $label Label.
	 * @param array  $form  The form's names.
	 */
	private static function open_row( string $id, string $label, array $form = self::SETTINGS_FORM ): void {
		self::open_tr( $form );
		?>
			<th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
			<td>
		<?php
	}

	/**
	 * A row's help text ({id}-description) and its end.
	 *
	 * @param string $id          The field's element id.
	 * @param string $description Help text, or empty.
	 */
	private static function close_row( string $id, string $description ): void {
		if ( '' !== $description ) {
			echo '<p class="description" id="' . esc_attr( $id . '-description' ) . '">' . esc_html( $description ) . '</p>';
		}
		echo '</td></tr>';
	}
}
