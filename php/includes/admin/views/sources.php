<?php
/**
 * The settings page's "Sources" section (issue 16): the first source (the CRM of the settings
 * below, the webhook URLs above), the table of further sources with their slug, user meta keys
 * and webhook URLs (each with its own access key) and their Edit, New key and Delete actions, the
 * delete confirmation, and the add or edit form. Only prints what WPF_Bridge_Sources::view()
 * hands it; secrets appear only as their state (stored or not set), never their value. Sits
 * outside the settings form: each action is a form of its own, with its own nonce. The form's
 * rows are WPF_Bridge_Admin_Form's (SOURCE_FORM names), its field map views/field-map.php.
 *
 * @package WPF_Bridge
 *
 * @var array $view loaded, first (crm, slug, meta_keys), rows (index => name, crm, slug,
 *                  meta_keys, urls), presets (slug => name, api_client, signature), form (index
 *                  or null for a new source, slug, preset, mapping text, values, secrets (key =>
 *                  state: stored or empty), field_map rows, rejected message or null), delete (index,
 *                  slug, name, or null), nonces (action => [nonce action, field]).
 */

defined( 'ABSPATH' ) || exit;

$page_url = WPF_Bridge_Settings_Page::url();
$anchor   = '#' . WPF_Bridge_Sources::ANCHOR;
$nonce    = static function ( string $action ) use ( $view ): void {
	wp_nonce_field( $view['nonces'][ $action ][0], $view['nonces'][ $action ][1] );
};
$form     = $view['form'];
?>
<div id="<?php echo esc_attr( WPF_Bridge_Sources::ANCHOR ); ?>">
	<h2><?php esc_html_e( 'Sources', 'wpf-bridge' ); ?></h2>
	<p><?php esc_html_e( 'A source is a CRM that calls this site, with its own access key: the key in the URL selects the source. Contact ids and tags are stored in the user meta of its slug.', 'wpf-bridge' ); ?></p>
	<table class="widefat striped" id="wpf-bridge-sources-table">
		<thead>
			<tr>
				<th scope="col"><?php esc_html_e( 'Source', 'wpf-bridge' ); ?></th>
				<th scope="col"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></th>
				<th scope="col"><?php esc_html_e( 'Slug', 'wpf-bridge' ); ?></th>
				<th scope="col"><?php esc_html_e( 'User meta', 'wpf-bridge' ); ?></th>
				<th scope="col"><?php esc_html_e( 'Webhook URLs', 'wpf-bridge' ); ?></th>
				<th scope="col"><?php esc_html_e( 'Actions', 'wpf-bridge' ); ?></th>
			</tr>
		</thead>
		<tbody>
			<tr id="wpf-bridge-source-first" data-slug="<?php echo esc_attr( $view['first']['slug'] ); ?>">
				<td><?php esc_html_e( 'First source', 'wpf-bridge' ); ?></td>
				<td><?php echo esc_html( $view['first']['crm'] ); ?></td>
				<td><code><?php echo esc_html( $view['first']['slug'] ); ?></code></td>
				<td><code><?php echo esc_html( $view['first']['meta_keys'][0] ); ?></code><br><code><?php echo esc_html( $view['first']['meta_keys'][1] ); ?></code></td>
				<td><a href="#wpf-bridge-webhooks"><?php esc_html_e( 'The webhook URLs above', 'wpf-bridge' ); ?></a></td>
				<td><?php esc_html_e( 'Edited with the settings below.', 'wpf-bridge' ); ?></td>
			</tr>
			<?php foreach ( $view['rows'] as $index => $row ) : ?>
				<?php $row_id = 'wpf-bridge-source-' . $index; ?>
				<tr id="<?php echo esc_attr( $row_id ); ?>" class="wpf-bridge-source" data-slug="<?php echo esc_attr( $row['slug'] ); ?>">
					<td class="wpf-bridge-source-name"><strong><?php echo esc_html( WPF_Bridge_Admin_View::neutralise( $row['name'] ) ); ?></strong><br><code>sources[<?php echo (int) $index; ?>]</code></td>
					<td class="wpf-bridge-source-crm"><?php echo esc_html( WPF_Bridge_Admin_View::neutralise( $row['crm'] ) ); ?></td>
					<td class="wpf-bridge-source-slug"><code><?php echo esc_html( WPF_Bridge_Admin_View::neutralise( $row['slug'] ) ); ?></code></td>
					<td class="wpf-bridge-source-meta"><code><?php echo esc_html( WPF_Bridge_Admin_View::neutralise( $row['meta_keys'][0] ) ); ?></code><br><code><?php echo esc_html( WPF_Bridge_Admin_View::neutralise( $row['meta_keys'][1] ) ); ?></code></td>
					<td class="wpf-bridge-source-urls">
						<?php if ( array() === $row['urls'] ) : ?>
							<?php esc_html_e( 'No access key: generate one.', 'wpf-bridge' ); ?>
						<?php endif; ?>
						<?php foreach ( $row['urls'] as $url_id => $url ) : ?>
							<?php $input_id = $row_id . '-url-' . $url_id; ?>
							<div class="wpf-bridge-source-url">
								<label for="<?php echo esc_attr( $input_id ); ?>"><code><?php echo esc_html( $url['label'] ); ?></code></label>
								<input type="text" readonly class="large-text code wpf-bridge-url" id="<?php echo esc_attr( $input_id ); ?>" value="<?php echo esc_attr( $url['url'] ); ?>">
								<button type="button" class="button wpf-bridge-copy" data-target="<?php echo esc_attr( $input_id ); ?>"><?php esc_html_e( 'Copy', 'wpf-bridge' ); ?></button>
							</div>
						<?php endforeach; ?>
					</td>
					<td class="wpf-bridge-source-actions">
						<a class="button" id="<?php echo esc_attr( $row_id . '-edit' ); ?>" href="<?php echo esc_url( WPF_Bridge_Settings_Page::url( array( 'source' => $index ) ) . '#wpf-bridge-source-form' ); ?>"><?php esc_html_e( 'Edit', 'wpf-bridge' ); ?></a>
						<form method="post" class="wpf-bridge-inline-form" action="<?php echo esc_url( $page_url ); ?>">
							<input type="hidden" name="wpf_bridge_action" value="regenerate_source_key">
							<input type="hidden" name="wpf_bridge_source_index" value="<?php echo (int) $index; ?>">
							<input type="hidden" name="wpf_bridge_source_slug" value="<?php echo esc_attr( $row['slug'] ); ?>">
							<?php $nonce( 'regenerate_source_key' ); ?>
							<button type="submit" class="button" id="<?php echo esc_attr( $row_id . '-regenerate-key' ); ?>"><?php esc_html_e( 'New access key', 'wpf-bridge' ); ?></button>
						</form>
						<a class="button button-link-delete" id="<?php echo esc_attr( $row_id . '-delete' ); ?>" href="<?php echo esc_url( WPF_Bridge_Settings_Page::url( array( 'delete_source' => $index ) ) . $anchor ); ?>"><?php esc_html_e( 'Delete', 'wpf-bridge' ); ?></a>
					</td>
				</tr>
			<?php endforeach; ?>
		</tbody>
	</table>

	<?php if ( ! $view['loaded'] ) : ?>
		<?php WPF_Bridge_Admin_Notices::print_notice( 'warning', 'sources-no-extension', __( 'The wpf_bridge extension is not loaded: sources cannot be added or changed.', 'wpf-bridge' ) ); ?>
	<?php elseif ( null !== $view['delete'] ) : ?>
		<div class="notice notice-warning inline" id="wpf-bridge-source-delete-confirm">
			<p>
				<?php
				/* translators: 1: the source's name, 2: its position */
				echo esc_html( sprintf( __( 'Delete the source "%1$s" (sources[%2$d])? Its webhook URLs are refused at once, and the events of it still waiting in the queue fail when their turn comes.', 'wpf-bridge' ), WPF_Bridge_Admin_View::neutralise( $view['delete']['name'] ), $view['delete']['index'] ) );
				?>
			</p>
			<form method="post" action="<?php echo esc_url( $page_url ); ?>">
				<input type="hidden" name="wpf_bridge_action" value="delete_source">
				<input type="hidden" name="wpf_bridge_source_index" value="<?php echo (int) $view['delete']['index']; ?>">
				<input type="hidden" name="wpf_bridge_source_slug" value="<?php echo esc_attr( $view['delete']['slug'] ); ?>">
				<?php $nonce( 'delete_source' ); ?>
				<p>
					<button type="submit" class="button button-primary" id="wpf-bridge-source-delete-submit"><?php esc_html_e( 'Delete the source', 'wpf-bridge' ); ?></button>
					<a class="button" id="wpf-bridge-source-delete-cancel" href="<?php echo esc_url( $page_url . $anchor ); ?>"><?php esc_html_e( 'Cancel', 'wpf-bridge' ); ?></a>
				</p>
			</form>
		</div>
	<?php else : ?>
		<?php $editing = null !== $form['index']; ?>
		<h3 id="wpf-bridge-source-form-title">
			<?php
			if ( $editing ) {
				/* translators: %d: the source's position */
				echo esc_html( sprintf( __( 'Edit the source sources[%d]', 'wpf-bridge' ), $form['index'] ) );
			} else {
				esc_html_e( 'Add a source', 'wpf-bridge' );
			}
			?>
		</h3>
		<?php
		if ( null !== $form['rejected'] ) {
			/* translators: %s: why the source was not saved (the extension's message names sources[N][key]) */
			WPF_Bridge_Admin_Notices::print_notice( 'error', 'source-invalid', sprintf( __( 'Source not saved: %s', 'wpf-bridge' ), $form['rejected'] ) );
		}
		?>
		<form method="post" action="<?php echo esc_url( $page_url . $anchor ); ?>" id="wpf-bridge-source-form" autocomplete="off">
			<input type="hidden" name="wpf_bridge_action" value="save_source">
			<input type="hidden" name="wpf_bridge_source_index" value="<?php echo $editing ? (int) $form['index'] : ''; ?>">
			<input type="hidden" name="wpf_bridge_source_slug" value="<?php echo esc_attr( $form['slug'] ); ?>">
			<?php $nonce( 'save_source' ); ?>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="wpf-bridge-source-preset"><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></label></th>
					<td>
						<select name="wpf_bridge_source_preset" id="wpf-bridge-source-preset">
							<option value="" data-api-client="0" <?php selected( $form['preset'], '' ); ?>><?php esc_html_e( 'Choose the CRM', 'wpf-bridge' ); ?></option>
							<?php foreach ( $view['presets'] as $slug => $preset ) : ?>
								<option value="<?php echo esc_attr( (string) $slug ); ?>" data-api-client="<?php echo $preset['api_client'] ? '1' : '0'; ?>" <?php selected( $form['preset'], (string) $slug ); ?>><?php echo esc_html( sprintf( '%s (%s)', $preset['name'], $slug ) ); ?></option>
							<?php endforeach; ?>
							<option value="<?php echo esc_attr( WPF_Bridge_Sources::CUSTOM ); ?>" data-api-client="0" <?php selected( $form['preset'], WPF_Bridge_Sources::CUSTOM ); ?>><?php esc_html_e( 'Custom mapping (JSON, below)', 'wpf-bridge' ); ?></option>
						</select>
						<p class="description"><?php esc_html_e( 'A preset reads that CRM\'s webhooks as documented; a custom mapping reads any CRM\'s (test it below, in "Test a webhook mapping"). Its slug names the user meta, and must differ from every other source\'s.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr id="wpf-bridge-source-mapping-row">
					<th scope="row"><label for="wpf-bridge-source-mapping"><?php esc_html_e( 'Custom mapping (JSON)', 'wpf-bridge' ); ?></label></th>
					<td>
						<textarea name="wpf_bridge_source_mapping" id="wpf-bridge-source-mapping" class="large-text code wpf-bridge-tester-text" rows="10" spellcheck="false"><?php echo esc_textarea( $form['mapping'] ); ?></textarea>
						<p class="description"><?php esc_html_e( 'Used when "Custom mapping" is chosen; its "slug" is the source\'s. The format is in the README, "Webhook mappings". A signature section\'s secret goes in "Signing secret" below (one pasted here is moved there).', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<?php
				$source_form = WPF_Bridge_Admin_Form::SOURCE_FORM;
				$api_form    = array( 'class' => 'wpf-bridge-source-api' ) + $source_form;
				WPF_Bridge_Admin_Form::text_field( 'name', __( 'Name', 'wpf-bridge' ), $form['values'], 'text', __( 'Optional: how this page names the source (else the CRM\'s name).', 'wpf-bridge' ), $source_form );
				WPF_Bridge_Admin_Form::secret_field( 'webhook_secret', __( 'Signing secret', 'wpf-bridge' ), $form['secrets']['webhook_secret'], __( 'For a CRM that signs its webhooks (MailerLite\'s "Signature"): the secret it shows for the webhook.', 'wpf-bridge' ), $source_form );
				WPF_Bridge_Admin_Form::text_field( 'api_url', __( 'API URL', 'wpf-bridge' ), $form['values'], 'text', __( 'For a CRM with an API client: its API address (for example https://YOURACCOUNT.api-us1.com for ActiveCampaign, https://connect.mailerlite.com for MailerLite).', 'wpf-bridge' ), $api_form );
				WPF_Bridge_Admin_Form::secret_field( 'api_key', __( 'API key', 'wpf-bridge' ), $form['secrets']['api_key'], __( 'The CRM\'s API token, for loading a contact from an id-only webhook and returning a password.', 'wpf-bridge' ), $api_form );
				?>
				<tr>
					<th scope="row"><?php esc_html_e( 'Access key', 'wpf-bridge' ); ?></th>
					<td id="wpf-bridge-source-access-key">
						<?php if ( $editing ) : ?>
							<?php esc_html_e( 'The source\'s own key, in its webhook URLs above. "New access key" in its row replaces it.', 'wpf-bridge' ); ?>
						<?php else : ?>
							<?php esc_html_e( 'A new random key is generated for the source when it is added.', 'wpf-bridge' ); ?>
						<?php endif; ?>
					</td>
				</tr>
			</table>

			<h4><?php esc_html_e( 'Field map', 'wpf-bridge' ); ?></h4>
			<?php
			WPF_Bridge_Admin_View::render(
				'field-map',
				array(
					'rows'  => $form['field_map'],
					'input' => 'wpf_bridge_source[field_map]',
					'id'    => 'wpf-bridge-source-field-map',
				)
			);
			?>

			<table class="form-table" role="presentation">
				<?php
				WPF_Bridge_Admin_Form::checkbox_field( 'return_password', __( 'Return password', 'wpf-bridge' ), __( 'Write the generated password of a new user back to the CRM field below (a CRM with an API client only).', 'wpf-bridge' ), $form['values'], $source_form );
				WPF_Bridge_Admin_Form::text_field( 'return_password_field', __( 'Password field', 'wpf-bridge' ), $form['values'], 'text', __( 'The CRM field alias that receives the password.', 'wpf-bridge' ), $source_form );
				?>
			</table>
			<p class="submit">
				<button type="submit" class="button button-primary" id="wpf-bridge-source-submit"><?php echo esc_html( $editing ? __( 'Save the source', 'wpf-bridge' ) : __( 'Add the source', 'wpf-bridge' ) ); ?></button>
				<?php if ( $editing ) : ?>
					<a class="button" id="wpf-bridge-source-cancel" href="<?php echo esc_url( $page_url . $anchor ); ?>"><?php esc_html_e( 'Cancel', 'wpf-bridge' ); ?></a>
				<?php endif; ?>
			</p>
		</form>
	<?php endif; ?>
</div>
<?php
