<?php
/**
 * The settings page's markup: status, the webhook URLs to copy, the sources (views/sources.php),
 * the settings form, the forms of the regenerate and test buttons, and the mapping tester
 * (views/mapping-tester.php).
 * Only prints what WPF_Bridge_Settings_Page hands it; the help text of each whole-number setting is the range the extension enforces.
 *
 * @package WPF_Bridge
 *
 * @var array $view settings (values to show), secrets (key => state, constant), rejected
 *                  (the refused save's message, or null), status, access_key, key_overridden,
 *                  webhook_urls (id => label, url, description), rules (or null), roles
 *                  (slug => name, admin_capabilities), site_default_role, field_map_rows,
 *                  argon2id_hash_length, mapping_tester (what views/mapping-tester.php prints:
 *                  the "Test a webhook mapping" section, WPF_Bridge_Mapping_Tester::view()),
 *                  sources (what views/sources.php prints, WPF_Bridge_Sources::view()).
 */

defined( 'ABSPATH' ) || exit;

$settings = $view['settings'];
$rules    = $view['rules'];
$status   = $view['status'];
?>
<div class="wrap" id="wpf-bridge-settings">
	<h1><?php esc_html_e( 'WPF Bridge', 'wpf-bridge' ); ?></h1>
	<p>
		<?php esc_html_e( 'Answers CRM webhooks (Mautic, User.com) with WP Fusion\'s URL contract.', 'wpf-bridge' ); ?>
		<a href="<?php echo esc_url( WPF_Bridge_Webhooks_Page::url() ); ?>" id="wpf-bridge-webhooks-link"><?php esc_html_e( 'See the webhooks', 'wpf-bridge' ); ?></a>
		<a href="#wpf-bridge-sources" id="wpf-bridge-sources-link"><?php esc_html_e( 'Sources', 'wpf-bridge' ); ?></a>
		<a href="#wpf-bridge-mapping-tester" id="wpf-bridge-mapping-tester-link"><?php esc_html_e( 'Test a webhook mapping', 'wpf-bridge' ); ?></a>
	</p>
	<?php
	WPF_Bridge_Admin_Notices::render_flash();
	if ( null !== $view['rejected'] ) {
		WPF_Bridge_Admin_Notices::print_notice( 'error', 'invalid-settings', $view['rejected'] );
	}
	?>

	<h2><?php esc_html_e( 'Status', 'wpf-bridge' ); ?></h2>
	<table class="form-table" role="presentation">
		<tr>
			<th scope="row"><?php esc_html_e( 'Extension', 'wpf-bridge' ); ?></th>
			<td id="wpf-bridge-status-extension" data-loaded="<?php echo $status['loaded'] ? '1' : '0'; ?>">
				<?php
				if ( ! $status['loaded'] ) {
					esc_html_e( 'Not loaded: webhooks are answered with HTTP 503.', 'wpf-bridge' );
					echo ' <span id="wpf-bridge-status-install">' . esc_html( $status['install'] ) . '</span>';
					echo ' <a href="' . esc_url( $status['readme_url'] ) . '">' . esc_html__( 'How to install it', 'wpf-bridge' ) . '</a>';
				} elseif ( $status['version_matches'] ) {
					/* translators: %s: version */
					echo esc_html( sprintf( __( 'Loaded, version %s.', 'wpf-bridge' ), (string) $status['version'] ) );
				} else {
					/* translators: 1: extension version, 2: plugin version */
					echo esc_html( sprintf( __( 'Loaded, version %1$s, but this plugin is version %2$s: webhooks are answered with HTTP 503. Install both from the same release.', 'wpf-bridge' ), (string) $status['version'], WPF_BRIDGE_PLUGIN_VERSION ) );
				}
				if ( $status['loaded'] && null !== $status['runtime'] ) {
					echo ' <span id="wpf-bridge-status-runtime">' . esc_html( $status['runtime'] ) . '</span>';
				}
				?>
			</td>
		</tr>
		<?php if ( $status['loaded'] ) : ?>
			<tr>
				<th scope="row"><?php esc_html_e( 'Saved settings', 'wpf-bridge' ); ?></th>
				<td id="wpf-bridge-status-settings" data-valid="<?php echo null === $status['settings_error'] ? '1' : '0'; ?>">
					<?php echo esc_html( null === $status['settings_error'] ? __( 'Valid.', 'wpf-bridge' ) : $status['settings_error'] ); ?>
				</td>
			</tr>
		<?php endif; ?>
		<?php if ( $status['wp_fusion'] ) : ?>
			<tr>
				<th scope="row"><?php esc_html_e( 'WP Fusion', 'wpf-bridge' ); ?></th>
				<td id="wpf-bridge-status-wp-fusion">
					<?php esc_html_e( 'WP Fusion is active too. WPF Bridge answers every wpf_action request first, so WP Fusion\'s own webhook handler never runs.', 'wpf-bridge' ); ?>
				</td>
			</tr>
		<?php endif; ?>
	</table>

	<h2 id="wpf-bridge-webhooks"><?php esc_html_e( 'Webhook URLs', 'wpf-bridge' ); ?></h2>
	<?php if ( '' === $view['access_key'] ) : ?>
		<?php WPF_Bridge_Admin_Notices::print_notice( 'warning', 'no-access-key', __( 'There is no access key yet: generate one.', 'wpf-bridge' ) ); ?>
	<?php else : ?>
		<p><?php esc_html_e( 'Paste these into your CRM\'s webhook or automation. They contain the access key: treat them like a password.', 'wpf-bridge' ); ?></p>
		<table class="form-table" role="presentation" id="wpf-bridge-webhook-urls">
			<?php foreach ( $view['webhook_urls'] as $id => $row ) : ?>
				<tr>
					<th scope="row"><label for="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>"><code><?php echo esc_html( $row['label'] ); ?></code></label></th>
					<td>
						<input type="text" readonly class="large-text code wpf-bridge-url" id="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>" value="<?php echo esc_attr( $row['url'] ); ?>">
						<button type="button" class="button wpf-bridge-copy" data-target="<?php echo esc_attr( 'wpf-bridge-url-' . $id ); ?>"><?php esc_html_e( 'Copy', 'wpf-bridge' ); ?></button>
						<p class="description"><?php echo esc_html( $row['description'] ); ?></p>
					</td>
				</tr>
			<?php endforeach; ?>
		</table>
	<?php endif; ?>
	<p>
		<?php if ( $view['key_overridden'] ) : ?>
			<span id="wpf-bridge-access-key-status"><?php esc_html_e( 'The access key is defined by WPF_BRIDGE_ACCESS_KEY in wp-config.php.', 'wpf-bridge' ); ?></span>
		<?php else : ?>
			<button type="submit" form="wpf-bridge-regenerate-form" class="button" id="wpf-bridge-regenerate-key"><?php esc_html_e( 'Generate a new access key', 'wpf-bridge' ); ?></button>
			<span class="description"><?php esc_html_e( 'The old key stops working at once: update every URL in your CRM.', 'wpf-bridge' ); ?></span>
		<?php endif; ?>
	</p>

	<?php WPF_Bridge_Admin_View::render( 'sources', $view['sources'] ); ?>

	<?php
	if ( null !== $rules ) :
		$crms  = (array) ( $rules['crms'] ?? array() );
		$url   = static function ( string $slug ) use ( $crms ): string {
			/* translators: %s: an example URL */
			return sprintf( __( 'For example %s', 'wpf-bridge' ), (string) ( $crms[ $slug ]['url_example'] ?? '' ) );
		};
		$range = static fn( string $key ): string => WPF_Bridge_Admin_View::range( $rules, $key );
		?>
		<form method="post" action="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>" id="wpf-bridge-settings-form" autocomplete="off">
			<input type="hidden" name="wpf_bridge_action" value="save">
			<?php wp_nonce_field( 'wpf_bridge_save', '_wpf_bridge_save_nonce' ); ?>

			<h2><?php esc_html_e( 'CRM', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php WPF_Bridge_Admin_Form::select_field( 'crm', __( 'CRM', 'wpf-bridge' ), array_map( static fn( $crm ): string => (string) ( $crm['name'] ?? '' ), $crms ), $settings, __( 'Contact ids are stored in the user meta {crm}_contact_id and tags in {crm}_tags, as WP Fusion does.', 'wpf-bridge' ) ); ?>
			</table>

			<h3><?php esc_html_e( 'Mautic', 'wpf-bridge' ); ?></h3>
			<table class="form-table" role="presentation">
				<?php WPF_Bridge_Admin_Form::text_field( 'mautic_url', __( 'Mautic URL', 'wpf-bridge' ), $settings, 'text', $url( 'mautic' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'mautic_username', __( 'API username', 'wpf-bridge' ), $settings, 'text', __( 'For basic authentication (enable the API and HTTP basic auth in Mautic\'s configuration).', 'wpf-bridge' ) ); ?>
				<?php WPF_Bridge_Admin_Form::secret_field( 'mautic_password', __( 'API password', 'wpf-bridge' ), $view['secrets']['mautic_password'] ); ?>
				<?php WPF_Bridge_Admin_Form::secret_field( 'mautic_token', __( 'OAuth2 access token', 'wpf-bridge' ), $view['secrets']['mautic_token'], __( 'Used instead of the username and password when set.', 'wpf-bridge' ) ); ?>
			</table>

			<h3><?php esc_html_e( 'User.com', 'wpf-bridge' ); ?></h3>
			<table class="form-table" role="presentation">
				<?php WPF_Bridge_Admin_Form::text_field( 'userengage_url', __( 'User.com API URL', 'wpf-bridge' ), $settings, 'text', $url( 'userengage' ) . ' ' . __( '(your app\'s address followed by /api/public/)', 'wpf-bridge' ) ); ?>
				<?php WPF_Bridge_Admin_Form::secret_field( 'userengage_api_key', __( 'API key', 'wpf-bridge' ), $view['secrets']['userengage_api_key'] ); ?>
			</table>

			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><?php esc_html_e( 'Connection', 'wpf-bridge' ); ?></th>
					<td>
						<button type="submit" form="wpf-bridge-test-connection-form" class="button" id="wpf-bridge-test-connection"><?php esc_html_e( 'Test connection', 'wpf-bridge' ); ?></button>
						<p class="description"><?php esc_html_e( 'Tests the saved settings: save your changes first.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
			</table>

			<h2><?php esc_html_e( 'Webhook security', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php WPF_Bridge_Admin_Form::secret_field( 'webhook_secret', __( 'Webhook secret', 'wpf-bridge' ), $view['secrets']['webhook_secret'], __( 'The "Secret" of the Mautic webhook. When set, a request that carries a JSON payload must also carry a valid Webhook-Signature header; calls with only URL parameters (campaign "Send a webhook" actions) load the contact from the Mautic API instead.', 'wpf-bridge' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Field map', 'wpf-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Which CRM field fills which WordPress field. A WordPress field is a user field (suggested in the list) or any user meta key. Leave a row empty to remove it.', 'wpf-bridge' ); ?></p>
			<?php $protected = (array) ( $rules['protected_meta_keys'] ?? array() ); ?>
			<p id="wpf-bridge-protected-meta-keys">
				<?php
				printf(
					/* translators: 1: key endings, 2: exact keys, 3: key beginnings, 4: the CRMs' link and tag keys */
					esc_html__( 'Meta keys that hold roles, capabilities or login state are refused: any key ending in %1$s; %2$s; keys starting with %3$s; and the CRM link and tag keys (%4$s).', 'wpf-bridge' ),
					esc_html( implode( ', ', (array) ( $protected['suffixes'] ?? array() ) ) ),
					esc_html( implode( ', ', (array) ( $protected['keys'] ?? array() ) ) ),
					esc_html( implode( ', ', (array) ( $protected['prefixes'] ?? array() ) ) ),
					esc_html( implode( ', ', array_merge( array_column( $crms, 'contact_id_meta_key' ), array_column( $crms, 'tags_meta_key' ) ) ) )
				);
				?>
			</p>
			<?php
			WPF_Bridge_Admin_View::render(
				'field-map',
				array(
					'rows'  => $view['field_map_rows'],
					'input' => 'wpf_bridge[field_map]',
					'id'    => 'wpf-bridge-field-map',
				)
			);
			?>
			<p class="description"><?php esc_html_e( 'Need more rows? Save, and three new blank rows appear.', 'wpf-bridge' ); ?></p>

			<h2><?php esc_html_e( 'Imported users', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><?php esc_html_e( 'Allowed roles', 'wpf-bridge' ); ?></th>
					<td>
						<fieldset id="wpf-bridge-allowed-roles">
							<legend class="screen-reader-text"><?php esc_html_e( 'Allowed roles', 'wpf-bridge' ); ?></legend>
							<?php foreach ( $view['roles'] as $slug => $role ) : ?>
								<?php
								$id    = 'wpf-bridge-allowed-role-' . $slug;
								$admin = $role['admin_capabilities'];
								?>
								<label for="<?php echo esc_attr( $id ); ?>">
									<input type="checkbox" name="wpf_bridge[allowed_roles][]" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) $slug ); ?>" <?php checked( in_array( (string) $slug, $settings['allowed_roles'], true ) ); ?>>
									<?php echo esc_html( $role['name'] ); ?>
									<code><?php echo esc_html( (string) $slug ); ?></code>
									<?php if ( $admin ) : ?>
										<strong class="wpf-bridge-admin-role">
											<?php
											/* translators: %s: list of capabilities */
											echo esc_html( sprintf( __( 'administrative: %s', 'wpf-bridge' ), implode( ', ', $admin ) ) );
											?>
										</strong>
									<?php endif; ?>
								</label><br>
							<?php endforeach; ?>
						</fieldset>
						<p class="description"><?php esc_html_e( 'Roles a webhook may give with role=... in its URL. Allowing an administrative role lets anyone who knows the access key create an administrator.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<?php
				$default_roles = array(
					/* translators: %s: role name */
					'' => sprintf( __( 'The site\'s default role (%s)', 'wpf-bridge' ), $view['site_default_role'] ),
				) + array_map( static fn( array $role ): string => $role['name'], $view['roles'] );
				WPF_Bridge_Admin_Form::select_field( 'default_role', __( 'Default role', 'wpf-bridge' ), $default_roles, $settings, __( 'The role of imported users when the webhook asks for none.', 'wpf-bridge' ) );
				?>
				<?php WPF_Bridge_Admin_Form::select_field( 'username_format', __( 'Username format', 'wpf-bridge' ), (array) ( $rules['username_formats'] ?? array() ), $settings, __( 'Used when the CRM gives no username.', 'wpf-bridge' ) ); ?>
				<?php WPF_Bridge_Admin_Form::checkbox_field( 'send_welcome_email', __( 'Welcome email', 'wpf-bridge' ), __( 'Send WordPress\'s new-user email (with a link to set the password) to every imported user, even without send_notification=true in the URL.', 'wpf-bridge' ), $settings ); ?>
				<?php WPF_Bridge_Admin_Form::checkbox_field( 'return_password', __( 'Return password', 'wpf-bridge' ), __( 'Write the generated password of a new user back to the CRM field below. The CRM then holds it in plain text: prefer the welcome email.', 'wpf-bridge' ), $settings ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'return_password_field', __( 'Password field', 'wpf-bridge' ), $settings, 'text', __( 'The CRM field alias that receives the password.', 'wpf-bridge' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Passwords', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php
				$argon2_text = sprintf(
					/* translators: %d: length of an argon2id hash */
					__( 'Hash WordPress passwords with argon2id instead of bcrypt (WordPress 6.8 and later) or phpass (earlier versions). Every password that logs in now keeps logging in (trimmed and limited to 4,096 bytes as WordPress does), and is rehashed at the next login. Passwords hashed this way keep working if you turn this off again. Needs a users table whose user_pass column holds %d characters (WordPress 4.4 and later create it with 255).', 'wpf-bridge' ),
					$view['argon2id_hash_length']
				);
				WPF_Bridge_Admin_Form::checkbox_field( 'argon2_passwords', __( 'Argon2id hashes', 'wpf-bridge' ), $argon2_text, $settings );
				?>
			</table>

			<h2><?php esc_html_e( 'Limits per webhook', 'wpf-bridge' ); ?></h2>
			<table class="form-table" role="presentation">
				<?php WPF_Bridge_Admin_Form::text_field( 'max_events', __( 'Most contact events', 'wpf-bridge' ), $settings, 'number', __( 'A request with more contact events is refused whole (413 too_many_events) and nothing is applied. Mautic sends at most 10 per delivery.', 'wpf-bridge' ) . ' ' . $range( 'max_events' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'time_budget', __( 'Time budget (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'A batch still running after this long stops between two events and answers 503 time_budget_exceeded with what was done, so the CRM sends the rest again.', 'wpf-bridge' ) . ' ' . $range( 'time_budget' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'max_body_bytes', __( 'Largest webhook body (bytes)', 'wpf-bridge' ), $settings, 'number', __( 'Bigger requests are refused with 413 body_too_large. Mautic\'s largest batch (10 contacts) is about 70 KB.', 'wpf-bridge' ) . ' ' . $range( 'max_body_bytes' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'crm_timeout', __( 'CRM API timeout (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'How long each call to the CRM\'s API may take. CRMs give a webhook 10 to 30 seconds in all.', 'wpf-bridge' ) . ' ' . $range( 'crm_timeout' ) ); ?>
			</table>

			<h2><?php esc_html_e( 'Queue', 'wpf-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Every contact event a webhook brings is stored first, then applied; the webhooks page (Tools) shows each one.', 'wpf-bridge' ); ?></p>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><?php esc_html_e( 'Processing', 'wpf-bridge' ); ?></th>
					<td>
						<fieldset id="wpf-bridge-processing">
							<legend class="screen-reader-text"><?php esc_html_e( 'Processing', 'wpf-bridge' ); ?></legend>
							<?php foreach ( (array) ( $rules['processing_modes'] ?? array() ) as $value => $label ) : ?>
								<?php $id = 'wpf-bridge-processing-' . $value; ?>
								<label for="<?php echo esc_attr( $id ); ?>">
									<input type="radio" name="wpf_bridge[processing]" id="<?php echo esc_attr( $id ); ?>" value="<?php echo esc_attr( (string) $value ); ?>" <?php checked( (string) $settings['processing'], (string) $value ); ?>>
									<?php echo esc_html( (string) $label ); ?>
								</label><br>
							<?php endforeach; ?>
						</fieldset>
						<p class="description"><?php esc_html_e( 'A webhook URL with async=false is applied in the request whatever this says; async=true is applied in the background.', 'wpf-bridge' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><label for="wpf-bridge-retry-delays"><?php esc_html_e( 'Retry delays (seconds)', 'wpf-bridge' ); ?></label></th>
					<td>
						<input type="text" class="regular-text code" name="wpf_bridge[retry_delays]" id="wpf-bridge-retry-delays" value="<?php echo esc_attr( implode( ', ', array_map( 'strval', (array) $settings['retry_delays'] ) ) ); ?>">
						<p class="description"><?php echo esc_html( __( 'Comma-separated: how long to wait before each retry of an event that failed for a reason that can pass (the CRM was down or rate-limited, the contact was busy, a site error). After the last one the event is failed and waits on the webhooks page.', 'wpf-bridge' ) . ' ' . WPF_Bridge_Admin_View::retry_delays_range( $rules ) ); ?></p>
					</td>
				</tr>
				<?php WPF_Bridge_Admin_Form::text_field( 'claim_timeout', __( 'Claim timeout (seconds)', 'wpf-bridge' ), $settings, 'number', __( 'How long a worker holds the events it is applying. If it dies (a PHP process killed or out of time), another takes them after this: longer than an apply ever takes.', 'wpf-bridge' ) . ' ' . $range( 'claim_timeout' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'keep_done_days', __( 'Keep done and failed events (days)', 'wpf-bridge' ), $settings, 'number', __( 'Applied and failed events stay on the webhooks page this long after they were settled, then are deleted (waiting events are never deleted without you).', 'wpf-bridge' ) . ' ' . $range( 'keep_done_days' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'max_waiting_events', __( 'Most waiting events', 'wpf-bridge' ), $settings, 'number', __( 'Events waiting to be applied (pending, in progress, retrying) at most. Past it, new webhooks are answered 503 queue_full with Retry-After and nothing is stored; the CRM sends them again.', 'wpf-bridge' ) . ' ' . $range( 'max_waiting_events' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'max_waiting_bytes', __( 'Most waiting bytes', 'wpf-bridge' ), $settings, 'number', __( 'Bytes the waiting events may hold in the database at most (same answer past it).', 'wpf-bridge' ) . ' ' . $range( 'max_waiting_bytes' ) ); ?>
				<?php WPF_Bridge_Admin_Form::text_field( 'max_waiting_per_contact', __( 'Most waiting events per contact', 'wpf-bridge' ), $settings, 'number', __( 'Events waiting for one contact at most (same answer past it).', 'wpf-bridge' ) . ' ' . $range( 'max_waiting_per_contact' ) ); ?>
			</table>

			<?php submit_button( __( 'Save settings', 'wpf-bridge' ), 'primary', 'wpf-bridge-save' ); ?>
		</form>
		<datalist id="wpf-bridge-wp-fields">
			<?php foreach ( (array) ( $rules['core_user_fields'] ?? array() ) as $field ) : ?>
				<option value="<?php echo esc_attr( $field ); ?>"></option>
			<?php endforeach; ?>
		</datalist>	<?php endif; ?>
	<form method="post" action="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>" id="wpf-bridge-regenerate-form">
		<input type="hidden" name="wpf_bridge_action" value="regenerate_key">
		<?php wp_nonce_field( 'wpf_bridge_regenerate_key', '_wpf_bridge_regenerate_nonce' ); ?>
	</form>
	<form method="post" action="<?php echo esc_url( WPF_Bridge_Settings_Page::url() ); ?>" id="wpf-bridge-test-connection-form">
		<input type="hidden" name="wpf_bridge_action" value="test_connection">
		<?php wp_nonce_field( 'wpf_bridge_test_connection', '_wpf_bridge_test_nonce' ); ?>
	</form>
	<?php WPF_Bridge_Admin_View::render( 'mapping-tester', $view['mapping_tester'] ); ?>
</div>
<?php
