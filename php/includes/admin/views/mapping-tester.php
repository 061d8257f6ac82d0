<?php
/**
 * The settings page's "Test a webhook mapping" section: the form and, after a run, what the
 * mapping read. Only prints what WPF_Bridge_Mapping_Tester::view() hands it. Everything read
 * from the pasted body is untrusted: escaped, with the bidirectional controls replaced.
 *
 * @package WPF_Bridge
 *
 * @var array $view loaded, presets (slug => name), actions, input (preset, action, mapping,
 *                  body, headers: shown again, never the secret), max_body_bytes, result (null
 *                  before a run; else error, code, signature [state, message], events, ignored).
 */

defined( 'ABSPATH' ) || exit;

$input  = $view['input'];
$result = $view['result'];
$text   = static fn( $value ): string => WPF_Bridge_Admin_View::neutralise(
	is_scalar( $value ) || null === $value
		? ( is_bool( $value ) ? ( $value ? 'true' : 'false' ) : (string) $value )
		: (string) wp_json_encode( $value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE )
);
?>
<div id="wpf-bridge-mapping-tester">
	<h2><?php esc_html_e( 'Test a webhook mapping', 'wpf-bridge' ); ?></h2>
	<p><?php esc_html_e( 'Paste a sample of your CRM\'s webhook and see what a mapping reads from it: a dry run. Nothing is stored or applied, and the body and secret are not kept or logged.', 'wpf-bridge' ); ?></p>
	<?php if ( ! $view['loaded'] ) : ?>
		<?php WPF_Bridge_Admin_Notices::print_notice( 'warning', 'tester-no-extension', __( 'The wpf_bridge extension is not loaded: mappings cannot be tested.', 'wpf-bridge' ) ); ?>
	<?php else : ?>
		<form method="post" action="<?php echo esc_url( WPF_Bridge_Settings_Page::url() . '#wpf-bridge-tester-result' ); ?>" id="wpf-bridge-mapping-tester-form">
			<input type="hidden" name="wpf_bridge_action" value="<?php echo esc_attr( WPF_Bridge_Mapping_Tester::ACTION ); ?>">
			<?php wp_nonce_field( WPF_Bridge_Mapping_Tester::NONCE_ACTION, WPF_Bridge_Mapping_Tester::NONCE_FIELD ); ?>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="wpf-bridge-tester-preset"><?php esc_html_e( 'Mapping', 'wpf-bridge' ); ?></label></th>
					<td>
						<select name="wpf_bridge_tester_preset" id="wpf-bridge-tester-preset">
							<?php foreach ( $view['presets'] as $slug => $name ) : ?>
								<option value="<?php echo esc_attr( $slug ); ?>" <?php selected( $input['preset'], $slug ); ?>><?php echo esc_html( sprintf( '%s (%s)', $name, $slug ) ); ?></option>
							<?php endforeach; ?>
							<option value="<?php echo esc_attr( WPF_Bridge_Mapping_Tester::CUSTOM ); ?>" <?php selected( $input['preset'], WPF_Bridge_Mapping_Tester::CUSTOM ); ?>><?php esc_html_e( 'Custom mapping (JSON, below)', 'wpf-bridge' ); ?></option>
						</select>
					</td>
				</tr>
				<tr id="wpf-bridge-tester-mapping-row">
					<th scope="row"><label for="wpf-bridge-tester-mapping"><?php esc_html_e( 'Custom mapping (JSON)', 'wpf-bridge' ); ?></label></th>
					<td>
						<textarea name="wpf_bridge_tester_mapping" id="wpf-bridge-tester-mapping" class="large-text code wpf-bridge-tester-text" rows="8" spellcheck="false"><?php echo esc_textarea( $input['mapping'] ); ?></textarea>
						<p class="description"><?php esc_html_e( 'Used when "Custom mapping" is chosen. The format is in the README, "Webhook mappings"; paths are JSON Pointers such as /contact/id.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-tester-action"><?php esc_html_e( 'Action', 'wpf-bridge' ); ?></label></th>
					<td>
						<select name="wpf_bridge_tester_action" id="wpf-bridge-tester-action">
							<?php foreach ( $view['actions'] as $action ) : ?>
								<option value="<?php echo esc_attr( $action ); ?>" <?php selected( $input['action'], $action ); ?>><?php echo esc_html( $action ); ?></option>
							<?php endforeach; ?>
						</select>
						<p class="description"><?php esc_html_e( 'The wpf_action of the webhook URL the CRM calls.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-tester-body"><?php esc_html_e( 'Sample body', 'wpf-bridge' ); ?></label></th>
					<td>
						<textarea name="wpf_bridge_tester_body" id="wpf-bridge-tester-body" class="large-text code wpf-bridge-tester-text" rows="10" spellcheck="false"><?php echo esc_textarea( $input['body'] ); ?></textarea>
						<p class="description">
							<?php
							/* translators: %s: the largest webhook body in bytes */
							echo esc_html( sprintf( __( 'The raw body the CRM sends (JSON or form-encoded), at most %s bytes (the "Largest webhook body" setting). Line ends are read as the field shows them (LF).', 'wpf-bridge' ), number_format_i18n( (int) $view['max_body_bytes'] ) ) );
							?>
						</p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-tester-headers"><?php esc_html_e( 'Headers', 'wpf-bridge' ); ?></label></th>
					<td>
						<textarea name="wpf_bridge_tester_headers" id="wpf-bridge-tester-headers" class="large-text code" rows="3" spellcheck="false"><?php echo esc_textarea( $input['headers'] ); ?></textarea>
						<p class="description"><?php esc_html_e( 'Optional, one "Name: value" a line: Content-Type for a mapping whose format is auto, the signature header and its timestamp.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-tester-secret"><?php esc_html_e( 'Signing secret', 'wpf-bridge' ); ?></label></th>
					<td>
						<input type="password" name="wpf_bridge_tester_secret" id="wpf-bridge-tester-secret" class="regular-text" value="" autocomplete="off">
						<p class="description"><?php esc_html_e( 'Optional: the secret the CRM signs with, to check the signature header. It is used for this test only and not shown again.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
			</table>
			<?php submit_button( __( 'Test the mapping', 'wpf-bridge' ), 'secondary', 'wpf-bridge-tester-submit' ); ?>
		</form>
	<?php endif; ?>

	<?php if ( null !== $result ) : ?>
		<div id="wpf-bridge-tester-result">
			<h3><?php esc_html_e( 'What the mapping reads', 'wpf-bridge' ); ?></h3>
			<?php if ( null !== $result['error'] ) : ?>
				<div class="notice notice-error inline" id="wpf-bridge-tester-error" data-code="<?php echo esc_attr( $result['code'] ); ?>">
					<p>
						<?php if ( '' !== $result['code'] ) : ?>
							<code><?php echo esc_html( $result['code'] ); ?></code>
						<?php endif; ?>
						<?php echo esc_html( $text( $result['error'] ) ); ?>
					</p>
				</div>
			<?php else : ?>
				<p id="wpf-bridge-tester-signature" data-state="<?php echo esc_attr( $result['signature'][0] ); ?>">
					<strong><?php esc_html_e( 'Signature:', 'wpf-bridge' ); ?></strong>
					<?php echo esc_html( $text( $result['signature'][1] ) ); ?>
				</p>
				<p id="wpf-bridge-tester-counts">
					<?php
					/* translators: 1: number of contact events, 2: number of ignored items */
					echo esc_html( sprintf( __( '%1$d contact events read, %2$d items ignored.', 'wpf-bridge' ), count( $result['events'] ), count( $result['ignored'] ) ) );
					?>
				</p>
				<?php foreach ( array_values( $result['events'] ) as $index => $event ) : ?>
					<?php $event = (array) $event; ?>
					<table class="widefat striped wpf-bridge-tester-event" id="wpf-bridge-tester-event-<?php echo esc_attr( (string) $index ); ?>">
						<caption>
							<?php
							/* translators: %d: the event's number */
							echo esc_html( sprintf( __( 'Contact event %d', 'wpf-bridge' ), $index + 1 ) );
							?>
						</caption>
						<tbody>
							<tr data-field="contact_id"><th scope="row"><?php esc_html_e( 'Contact id', 'wpf-bridge' ); ?></th><td><code><?php echo esc_html( $text( $event['contact_id'] ?? '' ) ); ?></code></td></tr>
							<tr data-field="email"><th scope="row"><?php esc_html_e( 'Email', 'wpf-bridge' ); ?></th><td><?php echo esc_html( $text( $event['email'] ?? '' ) ); ?></td></tr>
							<tr data-field="tags">
								<th scope="row"><?php esc_html_e( 'Tags', 'wpf-bridge' ); ?></th>
								<td>
									<?php if ( ! is_array( $event['tags'] ?? null ) ) : ?>
										<em><?php esc_html_e( 'None in the payload: the user\'s tags are left alone (or loaded from the CRM).', 'wpf-bridge' ); ?></em>
									<?php elseif ( array() === $event['tags'] ) : ?>
										<em><?php esc_html_e( 'An empty list: the user has no tags after this event.', 'wpf-bridge' ); ?></em>
									<?php else : ?>
										<ul class="wpf-bridge-tester-tags">
											<?php foreach ( $event['tags'] as $tag ) : ?>
												<li><?php echo esc_html( $text( $tag ) ); ?></li>
											<?php endforeach; ?>
										</ul>
									<?php endif; ?>
								</td>
							</tr>
							<tr data-field="fields">
								<th scope="row"><?php esc_html_e( 'Fields', 'wpf-bridge' ); ?></th>
								<td>
									<?php if ( ! is_array( $event['fields'] ?? null ) ) : ?>
										<em><?php esc_html_e( 'None in the payload: the mapping is id-only, the fields come from the CRM\'s API.', 'wpf-bridge' ); ?></em>
									<?php else : ?>
										<dl class="wpf-bridge-tester-fields">
											<?php foreach ( $event['fields'] as $key => $value ) : ?>
												<dt><code><?php echo esc_html( $text( $key ) ); ?></code></dt>
												<dd><?php echo esc_html( $text( $value ) ); ?></dd>
											<?php endforeach; ?>
										</dl>
									<?php endif; ?>
								</td>
							</tr>
							<tr data-field="timestamp">
								<th scope="row"><?php esc_html_e( 'Event time', 'wpf-bridge' ); ?></th>
								<td><?php echo null === ( $event['timestamp'] ?? null ) ? '<em>' . esc_html__( 'None: the event is applied whatever its age.', 'wpf-bridge' ) . '</em>' : esc_html( $text( $event['timestamp'] ) ); ?></td>
							</tr>
							<tr data-field="type"><th scope="row"><?php esc_html_e( 'Event type', 'wpf-bridge' ); ?></th><td><?php echo esc_html( $text( $event['type'] ?? '' ) ); ?></td></tr>
							<?php if ( ! empty( $event['deleted'] ) ) : ?>
								<tr data-field="deleted"><th scope="row"><?php esc_html_e( 'Deleted', 'wpf-bridge' ); ?></th><td><?php esc_html_e( 'The CRM deleted this contact.', 'wpf-bridge' ); ?></td></tr>
							<?php endif; ?>
						</tbody>
					</table>
				<?php endforeach; ?>
				<?php if ( $result['ignored'] ) : ?>
					<h4><?php esc_html_e( 'Ignored items', 'wpf-bridge' ); ?></h4>
					<ul id="wpf-bridge-tester-ignored">
						<?php foreach ( $result['ignored'] as $ignored ) : ?>
							<?php $ignored = (array) $ignored; ?>
							<li class="wpf-bridge-tester-ignored" data-code="<?php echo esc_attr( $text( $ignored['code'] ?? '' ) ); ?>">
								<?php
								/* translators: %s: the item's number in the body */
								echo esc_html( sprintf( __( 'Item %s:', 'wpf-bridge' ), $text( $ignored['item'] ?? '' ) ) );
								?>
								<code><?php echo esc_html( $text( $ignored['code'] ?? '' ) ); ?></code>
								<?php echo esc_html( $text( $ignored['message'] ?? '' ) ); ?>
							</li>
						<?php endforeach; ?>
					</ul>
				<?php endif; ?>
			<?php endif; ?>
		</div>
	<?php endif; ?>
</div>
