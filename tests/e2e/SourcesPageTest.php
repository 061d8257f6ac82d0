<?php
// The settings page's "Sources" section (issue 16, several CRMs on one site) in a real browser
// (headless Chromium): a MailerLite source is added and shows webhook URLs with its own access
// key (not the first source's); its secrets are never in the page; its name is edited keeping
// its secrets, a secret is cleared with its box, and clearing the signing secret MailerLite
// needs is refused; a custom mapping with a JSON syntax error is refused with the parser's
// message and nothing saved; a valid custom mapping is added under its own slug and meta keys,
// the secret pasted in its signature section kept apart from the mapping; the extension's
// validation refuses a bad mapping pointer (naming sources[N][mapping] and the pointer) and a
// duplicate slug; a new access key replaces the old in the URLs; delete asks for confirmation
// in the page, and a delete with a bad nonce is refused. Every check reads the option stored in
// the database. Order inside the class matters: the browser logs in once (first test) and keeps
// its session; later tests use the sources the earlier ones added.
final class SourcesPageTest extends E2eTestCase
{
    use SharesBrowser;

    private const SIGNING_SECRET = 'ml-signing-secret-e2e-5f2c';
    private const ACME_SIGNING_SECRET = 'acme-pasted-secret-e2e-91d0';
    private const API_KEY = 'ml-api-token-e2e-77aa';

    /** A made-up CRM's mapping, as the README's "Webhook mappings" example writes one. */
    private const ACME_MAPPING = [
        'slug' => 'acme',
        'name' => 'Acme CRM',
        'format' => 'json',
        'items' => ['/people'],
        'contact_id' => ['pointers' => ['/ref'], 'type' => 'string'],
        'email' => '/mail',
        'tags' => ['pointer' => '/labels', 'pluck' => 'title'],
        'fields' => ['first_name' => '/given'],
        'complete' => true,
    ];

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', ['sources' => []]));
        self::startBrowser();
    }

    public static function tearDownAfterClass(): void
    {
        self::quitBrowser();
        WordPress::configure(['sources' => []]);
    }

    private static function page(array $args = []): string
    {
        return Env::url() . '/wp-admin/options-general.php?' . http_build_query(['page' => 'wpf-bridge'] + $args);
    }

    /** The further sources stored in the database. */
    private static function sources(): array
    {
        return WordPress::settings()['sources'] ?? [];
    }

    /** Submits the sources form and waits for the next page; returns the notice with this id. */
    private function submitSource(string $notice): string
    {
        $browser = $this->browser();
        $browser->click($browser->find('#wpf-bridge-source-submit'));
        $element = $browser->waitFor("#wpf-bridge-notice-$notice", 30);
        $browser->waitForLoad();
        return $element;
    }

    /** Chooses "Custom mapping" in a freshly loaded add form and pastes the mapping's text. */
    private function pasteCustomMapping(string $text): void
    {
        $browser = $this->browser();
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-source-preset option[value="custom"]'));
        $this->assertFalse($browser->property($browser->find('#wpf-bridge-source-mapping-row'), 'hidden'), 'the mapping field is hidden for Custom mapping');
        // A long text is set as the field's value (typing it key by key is slow).
        $browser->execute('document.getElementById("wpf-bridge-source-mapping").value = arguments[0];', [$text]);
    }

    /** The webhook URLs listed for sources[N]: id => query parameters. */
    private function sourceUrls(int $index): array
    {
        $browser = $this->browser();
        $urls = [];
        foreach (['update' => 'update', 'update-tags' => 'update_tags', 'add' => 'add'] as $id => $action) {
            $input = $browser->find("#wpf-bridge-source-$index-url-$id");
            $this->assertNotNull($browser->attribute($input, 'readonly'), "sources[$index] $id URL should be read-only");
            $url = (string) $browser->property($input, 'value');
            $this->assertStringStartsWith(Env::url() . '/?', $url);
            parse_str((string) parse_url($url, PHP_URL_QUERY), $query);
            $this->assertSame($action, $query['wpf_action'] ?? null, $url);
            $urls[$id] = $query;
        }
        return $urls;
    }

    public function test_a_mailerlite_source_is_added_with_its_own_access_key(): void
    {
        $browser = $this->browser();
        $browser->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword());
        $browser->get(self::page());
        $browser->waitFor('#wpf-bridge-source-form');
        $this->assertSame([], $browser->findAll('tr.wpf-bridge-source'), 'a further source before any was added');
        $this->assertSame('mautic', $browser->attribute($browser->find('#wpf-bridge-source-first'), 'data-slug'));
        $this->assertStringContainsString('mautic_contact_id', $browser->text($browser->find('#wpf-bridge-source-first')));

        $browser->click($browser->find('#wpf-bridge-source-preset option[value="mailerlite"]'));
        $this->assertTrue($browser->property($browser->find('#wpf-bridge-source-mapping-row'), 'hidden'), 'the custom mapping field is shown for a preset');
        // The API URL and key are shown for a preset with an API client only: MailerLite has one, Drip none.
        $this->assertTrue(WordPress::php('return wpf_bridge_presets()["mailerlite"]["api_client"];'));
        $this->assertNotNull($browser->property($browser->find('#wpf-bridge-source-api-key'), 'offsetParent'), 'the API key is hidden for MailerLite');
        $browser->click($browser->find('#wpf-bridge-source-preset option[value="drip"]'));
        $this->assertNull($browser->property($browser->find('#wpf-bridge-source-api-key'), 'offsetParent'), 'the API key is shown for Drip');
        $browser->click($browser->find('#wpf-bridge-source-preset option[value="mailerlite"]'));
        $browser->type($browser->find('#wpf-bridge-source-name'), 'Newsletter');
        $browser->type($browser->find('#wpf-bridge-source-webhook-secret'), self::SIGNING_SECRET);
        $browser->type($browser->find('#wpf-bridge-source-api-url'), Env::get('WPF_E2E_CRM_URL') . '/mailerlite');
        $browser->type($browser->find('#wpf-bridge-source-api-key'), self::API_KEY);
        $browser->type($browser->find('#wpf-bridge-source-field-map-0-crm'), 'city');
        $browser->type($browser->find('#wpf-bridge-source-field-map-0-wp'), 'billing_city');
        $notice = $this->submitSource('source-saved');
        $this->assertStringContainsString('Newsletter', $browser->text($notice));
        $this->assertSame([], $browser->findAll('#wpf-bridge-notice-source-invalid'));

        $sources = self::sources();
        $this->assertCount(1, $sources);
        $source = $sources[0];
        $first = WordPress::accessKey();
        $this->assertSame('mailerlite', $source['mapping']);
        $this->assertSame('Newsletter', $source['name']);
        $this->assertSame(self::SIGNING_SECRET, $source['webhook_secret']);
        $this->assertSame(self::API_KEY, $source['api_key']);
        $this->assertSame(Env::get('WPF_E2E_CRM_URL') . '/mailerlite', $source['api_url']);
        $this->assertSame(['city' => 'billing_city'], $source['field_map']);
        $this->assertGreaterThanOrEqual(32, strlen($source['access_key']), 'the source got no fresh access key');
        $this->assertNotSame($first, $source['access_key']);
        // What was stored is what the extension accepts.
        $this->assertTrue(WordPress::php('wpf_bridge_validate_settings( WPF_Bridge_Settings::for_extension() ); return true;'));

        // Its row: name, CRM, slug, meta keys, and its own URLs with its own key.
        $row = $browser->find('#wpf-bridge-source-0');
        $this->assertSame('mailerlite', $browser->attribute($row, 'data-slug'));
        $text = $browser->text($row);
        foreach (['Newsletter', 'MailerLite', 'mailerlite_contact_id', 'mailerlite_tags', 'sources[0]'] as $expected) {
            $this->assertStringContainsString($expected, $text);
        }
        foreach ($this->sourceUrls(0) as $id => $query) {
            $this->assertSame($source['access_key'], $query['access_key'] ?? null, "sources[0] $id URL");
        }
        $this->assertStringNotContainsString($first, $browser->text($row) . implode(' ', array_map(fn ($id) => (string) $browser->property($browser->find("#wpf-bridge-source-0-url-$id"), 'value'), ['update', 'update-tags', 'add'])));
        // The first source's URLs keep the first key.
        $this->assertStringContainsString('access_key=' . rawurlencode($first), (string) $browser->property($browser->find('#wpf-bridge-url-update'), 'value'));

        // Reloaded, the page holds no secret of the source (its key only inside its URLs).
        $browser->get(self::page(['x' => '1']) . '#wpf-bridge-sources');
        $browser->waitFor('#wpf-bridge-source-0');
        $browser->waitForLoad();
        $browser->screenshot(Env::screenshotDir() . '/sources-01-added.png');
        $this->assertStringNotContainsString(self::SIGNING_SECRET, $browser->source());
        $this->assertStringNotContainsString(self::API_KEY, $browser->source());
        // No inline style or event handler in the section.
        $html = (string) $browser->execute('return document.getElementById("wpf-bridge-sources").outerHTML;');
        $this->assertDoesNotMatchRegularExpression('/\s(style|on[a-z]+)=/i', $html);
    }

    /** @depends test_a_mailerlite_source_is_added_with_its_own_access_key */
    public function test_editing_its_name_keeps_its_secrets_and_the_box_clears_one(): void
    {
        $browser = $this->browser();
        $before = self::sources()[0];
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-source-0-edit'));
        $browser->waitFor('#wpf-bridge-source-form');
        $browser->waitForLoad();
        $this->assertStringContainsString('sources[0]', $browser->text($browser->find('#wpf-bridge-source-form-title')));
        $this->assertSame('mailerlite', $browser->property($browser->find('#wpf-bridge-source-preset'), 'value'));
        $this->assertSame('Newsletter', $browser->property($browser->find('#wpf-bridge-source-name'), 'value'));
        $this->assertSame('billing_city', $browser->property($browser->find('#wpf-bridge-source-field-map-0-wp'), 'value'));
        // Secrets are write-only: empty fields, their state only.
        $this->assertSame('', $browser->property($browser->find('#wpf-bridge-source-webhook-secret'), 'value'));
        $this->assertSame('stored', $browser->attribute($browser->find('#wpf-bridge-source-webhook-secret-status'), 'data-state'));
        $this->assertStringNotContainsString(self::SIGNING_SECRET, $browser->source());
        $browser->screenshot(Env::screenshotDir() . '/sources-02-edit.png');

        $name = $browser->find('#wpf-bridge-source-name');
        $browser->clear($name);
        $browser->type($name, 'Newsletter EU');
        $this->submitSource('source-saved');
        $after = self::sources()[0];
        $this->assertSame('Newsletter EU', $after['name']);
        foreach (['mapping', 'access_key', 'webhook_secret', 'api_key', 'field_map'] as $key) {
            $this->assertSame($before[$key], $after[$key], "editing the name changed $key");
        }
        $this->assertStringContainsString('Newsletter EU', $browser->text($browser->find('#wpf-bridge-source-0')));

        // The clear box removes the stored secret; typing one stores it again.
        $browser->get(self::page(['source' => 0]));
        $this->assertSame('stored', $browser->attribute($browser->waitFor('#wpf-bridge-source-api-key-status'), 'data-state'));
        $browser->click($browser->find('#wpf-bridge-source-clear-api-key'));
        $this->submitSource('source-saved');
        $this->assertSame('', self::sources()[0]['api_key']);
        $this->assertSame(self::SIGNING_SECRET, self::sources()[0]['webhook_secret']);
        $this->assertSame($before['access_key'], self::sources()[0]['access_key']);
        $browser->get(self::page(['source' => 0]));
        $this->assertSame('empty', $browser->attribute($browser->waitFor('#wpf-bridge-source-api-key-status'), 'data-state'));
        $browser->type($browser->find('#wpf-bridge-source-api-key'), self::API_KEY);
        $this->submitSource('source-saved');
        $this->assertSame(self::API_KEY, self::sources()[0]['api_key']);

        // MailerLite signs its webhooks: clearing its signing secret is refused, naming the field.
        $browser->get(self::page(['source' => 0]));
        $browser->click($browser->waitFor('#wpf-bridge-source-clear-webhook-secret'));
        $before = WordPress::settings();
        $notice = $browser->text($this->submitSource('source-invalid'));
        $this->assertStringContainsString('sources[0][webhook_secret]', $notice);
        $this->assertSame($before, WordPress::settings(), 'a refused edit changed the settings');
    }

    /** @depends test_a_mailerlite_source_is_added_with_its_own_access_key */
    public function test_saving_the_settings_form_keeps_the_sources(): void
    {
        $browser = $this->browser();
        $before = WordPress::settings();
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-username-format option[value="flname"]'));
        $browser->click($browser->find('#wpf-bridge-save'));
        $browser->waitFor('#wpf-bridge-notice-saved', 30);
        $browser->waitForLoad();
        $after = WordPress::settings();
        $this->assertSame('flname', $after['username_format']);
        $this->assertSame($before['sources'], $after['sources'], 'saving the settings form changed the sources');
        WordPress::configure(['username_format' => 'email']);
    }

    /** The settings class on the real WordPress: how a stored source is coerced, which of its keys are secrets. */
    public function test_the_settings_keep_each_source_coerced_and_know_its_secrets(): void
    {
        $result = WordPress::php(<<<'PHP'
            $stored = get_option( WPF_Bridge_Settings::OPTION );
            update_option( WPF_Bridge_Settings::OPTION, array_merge( $stored, array( 'sources' => array(
                array( 'mapping' => 'drip', 'access_key' => 12345, 'return_password' => '1', 'field_map' => array( 'a' => 'b', 'c' => array( 'x' ) ), 'unknown' => 'dropped' ),
                'not a source',
                array( 'mapping' => array( 'slug' => 'acme', 'format' => 'json' ), 'name' => array( 'not text' ) ),
            ) ) ) );
            $sources = WPF_Bridge_Settings::sources();
            update_option( WPF_Bridge_Settings::OPTION, $stored );
            return array(
                'sources' => $sources,
                'slugs'   => array_map( array( 'WPF_Bridge_Settings', 'source_slug' ), $sources ),
                'secret'  => array_map( array( 'WPF_Bridge_Settings', 'is_secret' ), array( 'sources[0][access_key]' => 'sources[0][access_key]', 'sources[3][webhook_secret]' => 'sources[3][webhook_secret]', 'sources[1][api_key]' => 'sources[1][api_key]', 'api_key' => 'api_key', 'sources[0][api_url]' => 'sources[0][api_url]', 'sources[0][name]' => 'sources[0][name]', 'mautic_password' => 'mautic_password', 'crm' => 'crm' ) ),
                'form'    => WPF_Bridge_Settings::source_from_form( array( 'mapping' => 'MailerLite ', 'name' => ' <b>Shop</b> ', 'webhook_secret' => ' s%41<x> ', 'api_key' => '', 'field_map' => array( array( 'crm' => 'city', 'wp' => 'billing_city' ), array( 'crm' => '', 'wp' => 'x' ) ) ), array( 'api_key' => '1' ), array( 'mapping' => 'mailerlite', 'access_key' => 'kept-key', 'api_key' => 'old' ) + WPF_Bridge_Settings::source_keys() ),
            );
            PHP);
        $keys = ['mapping', 'name', 'access_key', 'webhook_secret', 'api_url', 'api_key', 'field_map', 'return_password', 'return_password_field'];
        $this->assertCount(2, $result['sources'], 'a source that is not an array is dropped');
        $this->assertSame($keys, array_keys($result['sources'][0]), 'unknown keys are dropped, every key is there');
        $this->assertSame('12345', $result['sources'][0]['access_key']);
        $this->assertTrue($result['sources'][0]['return_password']);
        $this->assertSame(['a' => 'b'], $result['sources'][0]['field_map']);
        $this->assertSame(['slug' => 'acme', 'format' => 'json'], $result['sources'][1]['mapping'], 'a custom mapping is kept as stored');
        $this->assertSame('', $result['sources'][1]['name']);
        $this->assertSame(['drip', 'acme'], $result['slugs']);
        $this->assertSame(['sources[0][access_key]' => true, 'sources[3][webhook_secret]' => true, 'sources[1][api_key]' => true, 'api_key' => true, 'sources[0][api_url]' => false, 'sources[0][name]' => false, 'mautic_password' => true, 'crm' => false], $result['secret']);
        // From the form: text sanitised, secrets as typed (trimmed), the key kept, the box clears.
        $form = $result['form'];
        $this->assertSame('mailerlite', $form['mapping']);
        $this->assertSame('Shop', $form['name']);
        $this->assertSame('s%41<x>', $form['webhook_secret']);
        $this->assertSame('', $form['api_key']);
        $this->assertSame('kept-key', $form['access_key']);
        $this->assertSame(['city' => 'billing_city'], $form['field_map']);
    }

    /** @depends test_a_mailerlite_source_is_added_with_its_own_access_key */
    public function test_a_custom_mapping_with_a_json_syntax_error_is_refused_and_nothing_saved(): void
    {
        $browser = $this->browser();
        $before = WordPress::settings();
        $broken = '{"slug": "acme", "format": "json",';
        $this->pasteCustomMapping($broken);
        $browser->type($browser->find('#wpf-bridge-source-name'), 'Broken');
        $notice = $browser->text($this->submitSource('source-invalid'));
        $this->assertStringContainsString('not valid JSON', $notice);
        $this->assertStringContainsString('Syntax error', $notice);
        $this->assertSame($before, WordPress::settings(), 'a refused source changed the settings');
        // The form is shown again with what was typed, to correct it.
        $this->assertSame('custom', $browser->property($browser->find('#wpf-bridge-source-preset'), 'value'));
        $this->assertSame($broken, $browser->property($browser->find('#wpf-bridge-source-mapping'), 'value'));
        $this->assertSame('Broken', $browser->property($browser->find('#wpf-bridge-source-name'), 'value'));
    }

    /** @depends test_a_mailerlite_source_is_added_with_its_own_access_key */
    public function test_a_custom_mapping_is_added_under_its_own_slug_without_its_pasted_secret(): void
    {
        $browser = $this->browser();
        $mapping = self::ACME_MAPPING + ['signature' => ['header' => 'X-Acme-Signature', 'algorithm' => 'sha256', 'encoding' => 'hex', 'signed' => 'body', 'secret' => self::ACME_SIGNING_SECRET]];
        $this->pasteCustomMapping((string) json_encode($mapping, JSON_PRETTY_PRINT));
        $this->submitSource('source-saved');
        $sources = self::sources();
        $this->assertCount(2, $sources);
        $acme = $sources[1];
        $this->assertIsArray($acme['mapping']);
        $this->assertSame('acme', $acme['mapping']['slug']);
        $this->assertArrayNotHasKey('secret', $acme['mapping']['signature'], 'the pasted secret stayed in the mapping');
        $this->assertSame(self::ACME_SIGNING_SECRET, $acme['webhook_secret']);
        $this->assertNotSame($sources[0]['access_key'], $acme['access_key']);

        $row = $browser->find('#wpf-bridge-source-1');
        $this->assertSame('acme', $browser->attribute($row, 'data-slug'));
        foreach (['Acme CRM', 'Custom mapping', 'acme_contact_id', 'acme_tags'] as $expected) {
            $this->assertStringContainsString($expected, $browser->text($row));
        }
        foreach ($this->sourceUrls(1) as $id => $query) {
            $this->assertSame($acme['access_key'], $query['access_key'] ?? null, "sources[1] $id URL");
        }
        // Its edit form shows the mapping (without any secret) and no secret.
        $browser->get(self::page(['source' => 1]));
        $this->assertSame('custom', $browser->property($browser->waitFor('#wpf-bridge-source-preset'), 'value'));
        $shown = json_decode((string) $browser->property($browser->find('#wpf-bridge-source-mapping'), 'value'), true);
        $this->assertSame('X-Acme-Signature', $shown['signature']['header'] ?? null);
        $this->assertStringNotContainsString(self::ACME_SIGNING_SECRET, $browser->source());
        $this->assertStringNotContainsString(self::SIGNING_SECRET, $browser->source());

        // The made-up CRM's webhook, signed with the secret pasted on the page, sent to the add
        // URL the page lists, works end to end: stored under acme, drained, the user created.
        $browser->get(self::page());
        $add = (string) $browser->property($browser->waitFor('#wpf-bridge-source-1-url-add'), 'value');
        $body = (string) json_encode(['people' => [
            ['ref' => 'AC-77', 'mail' => 'acme.person@example.org', 'given' => 'Ada', 'labels' => [['title' => 'Lead'], ['title' => 'Beta']]],
        ]]);
        $forged = (new Http())->request('POST', $add, $body, ['Content-Type' => 'application/json', 'X-Acme-Signature' => hash_hmac('sha256', $body, 'not-the-secret')]);
        $this->assertSame(403, $forged->status, $forged->describe());
        QueueTable::reset();
        $signature = hash_hmac('sha256', $body, self::ACME_SIGNING_SECRET);
        $answer = (new Http())->request('POST', $add, $body, ['Content-Type' => 'application/json', 'X-Acme-Signature' => $signature]);
        $this->assertSame(200, $answer->status, $answer->describe());
        $json = $answer->json();
        // Queued (background) or applied at once (immediate), by the site's processing setting.
        $contact = $json['queued'][0]['contact_id'] ?? $json['results'][0]['contact_id'] ?? null;
        $this->assertSame(['acme', 'AC-77'], [$json['crm'] ?? null, $contact], $answer->describe());
        $wait = QueueTable::waitUntilSettled(30);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting: ' . json_encode(QueueTable::rows()));
        $ids = WordPress::userIdsWithMeta('acme_contact_id', 'AC-77');
        $this->assertCount(1, $ids);
        $user = WordPress::user($ids[0]);
        $this->assertSame('acme.person@example.org', $user['email'] ?? $user['user_email'] ?? null, json_encode($user));
        $this->assertSame('Ada', $user['meta']['first_name'] ?? null, json_encode($user));
        $tags = $user['meta']['acme_tags'] ?? null;
        $this->assertSame(['Lead', 'Beta'], is_array($tags) ? array_values($tags) : $tags, json_encode($user));
    }

    /**
     * Needs the extension's validation of `sources` (the lead's "Settings: sources").
     *
     * @depends test_a_custom_mapping_is_added_under_its_own_slug_without_its_pasted_secret
     */
    public function test_a_bad_mapping_pointer_is_refused_naming_the_source_and_the_pointer(): void
    {
        $browser = $this->browser();
        $before = WordPress::settings();
        $secret = 'acme2-pasted-secret-e2e-0b1e';
        $mapping = ['slug' => 'acme2', 'contact_id' => ['pointers' => ['ref'], 'type' => 'string']] + self::ACME_MAPPING
            + ['signature' => ['header' => 'X-Acme-Signature', 'algorithm' => 'sha256', 'encoding' => 'hex', 'signed' => 'body', 'secret' => $secret]];
        $this->pasteCustomMapping((string) json_encode($mapping));
        $notice = $browser->text($this->submitSource('source-invalid'));
        $this->assertStringContainsString('sources[2][mapping]', $notice);
        $this->assertStringContainsString('/contact_id/pointers/0', $notice);
        $this->assertSame($before, WordPress::settings(), 'a refused source changed the settings');
        // The mapping is shown again to correct it, without the secret pasted in it.
        $shown = json_decode((string) $browser->property($browser->find('#wpf-bridge-source-mapping'), 'value'), true);
        $this->assertSame(['ref'], $shown['contact_id']['pointers'] ?? null);
        $this->assertArrayNotHasKey('secret', $shown['signature'] ?? []);
        $this->assertStringNotContainsString($secret, $browser->source());
    }

    /**
     * Needs the extension's validation of `sources` (the lead's "Settings: sources").
     *
     * @depends test_a_custom_mapping_is_added_under_its_own_slug_without_its_pasted_secret
     */
    public function test_a_duplicate_slug_is_refused(): void
    {
        $browser = $this->browser();
        $before = WordPress::settings();
        // A second MailerLite source.
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-source-preset option[value="mailerlite"]'));
        $notice = $browser->text($this->submitSource('source-invalid'));
        $this->assertStringContainsString('sources[2]', $notice);
        $this->assertSame($before, WordPress::settings(), 'a duplicate source changed the settings');
        // A custom mapping under the first source's slug.
        $this->pasteCustomMapping((string) json_encode(['slug' => 'mautic'] + self::ACME_MAPPING));
        $notice = $browser->text($this->submitSource('source-invalid'));
        $this->assertStringContainsString('sources[2]', $notice);
        $this->assertSame($before, WordPress::settings(), 'a source with the first source\'s slug changed the settings');
    }

    /** @depends test_a_custom_mapping_is_added_under_its_own_slug_without_its_pasted_secret */
    public function test_a_new_access_key_replaces_the_old_in_its_urls(): void
    {
        $browser = $this->browser();
        $before = self::sources();
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-source-1-regenerate-key'));
        $browser->waitFor('#wpf-bridge-notice-source-key-regenerated', 30);
        $browser->waitForLoad();
        $after = self::sources();
        $this->assertNotSame($before[1]['access_key'], $after[1]['access_key']);
        $this->assertSame($before[0], $after[0], 'the other source changed');
        foreach ($this->sourceUrls(1) as $id => $query) {
            $this->assertSame($after[1]['access_key'], $query['access_key'] ?? null, "sources[1] $id URL");
        }
        $this->assertStringNotContainsString($before[1]['access_key'], $browser->source());
    }

    /** @depends test_a_custom_mapping_is_added_under_its_own_slug_without_its_pasted_secret */
    public function test_a_delete_without_its_nonce_is_refused(): void
    {
        $admin = $this->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword())['client'];
        $html = $admin->get(self::page(['delete_source' => 0]))->body;
        $this->assertSame(1, preg_match('/name="_wpf_bridge_delete_source_nonce" value="([0-9a-f]+)"/', $html, $m), 'no delete nonce on the confirmation');
        $this->assertSame(1, preg_match('/name="_wpf_bridge_save_nonce" value="([0-9a-f]+)"/', $html, $save), 'no save nonce on the page');
        $before = WordPress::settings();
        $fields = ['wpf_bridge_action' => 'delete_source', 'wpf_bridge_source_index' => '0', 'wpf_bridge_source_slug' => 'mailerlite'];
        foreach ([
            'no nonce' => [],
            'a made-up nonce' => ['_wpf_bridge_delete_source_nonce' => 'deadbeef00'],
            "the settings form's nonce" => ['_wpf_bridge_delete_source_nonce' => $save[1]],
        ] as $what => $nonce) {
            $response = $admin->postForm(self::page(), $fields + $nonce);
            $this->assertSame(403, $response->status, "$what: " . $response->describe());
            $this->assertSame($before, WordPress::settings(), "$what: the settings changed");
        }
        // The right nonce with a slug that is not the one at that position: nothing deleted.
        $response = $admin->postForm(self::page(), ['wpf_bridge_source_slug' => 'acme', '_wpf_bridge_delete_source_nonce' => $m[1]] + $fields);
        $this->assertContains($response->status, [200, 302], $response->describe());
        $this->assertSame($before, WordPress::settings(), 'a delete naming another slug deleted something');
    }

    /** @depends test_a_delete_without_its_nonce_is_refused */
    public function test_delete_asks_for_confirmation_then_the_source_is_gone(): void
    {
        $browser = $this->browser();
        $before = self::sources();
        $browser->get(self::page());
        $browser->click($browser->waitFor('#wpf-bridge-source-0-delete'));
        $confirm = $browser->waitFor('#wpf-bridge-source-delete-confirm');
        $browser->waitForLoad();
        $this->assertStringContainsString('fail', $browser->text($confirm), 'the confirmation does not say its queued events fail');
        $this->assertStringContainsString('Newsletter EU', $browser->text($confirm));
        $browser->screenshot(Env::screenshotDir() . '/sources-03-delete-confirmation.png');
        $this->assertSame($before, self::sources(), 'asking to delete deleted');
        $browser->click($browser->find('#wpf-bridge-source-delete-submit'));
        $browser->waitFor('#wpf-bridge-notice-source-deleted', 30);
        $browser->waitForLoad();
        $after = self::sources();
        $this->assertCount(count($before) - 1, $after);
        $this->assertSame($before[1], $after[0], 'the remaining source changed');
        $this->assertSame('acme', $browser->attribute($browser->find('#wpf-bridge-source-0'), 'data-slug'));
        $this->assertSame([], $browser->findAll('tr.wpf-bridge-source[data-slug="mailerlite"]'));
        $this->assertStringNotContainsString($before[0]['access_key'], $browser->source());
    }
}
