<?php
// The plugin's admin pages in a real browser (headless Chromium through chromedriver):
// log in as the admin, read the webhook URLs, change and save a setting, test the CRM
// connection, read the webhook log. A PNG of each page is kept in the screenshot folder
// ($WPF_E2E_DIR/screenshots, git-ignored). Order inside the class matters: the browser logs
// in once (first test) and keeps its session.
final class AdminPagesTest extends E2eTestCase
{
    use SharesBrowser;

    private static array $screenshots = [];

    public static function setUpBeforeClass(): void
    {
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(WordPress::fakeCrmSettings('mautic'));
        WordPress::deleteAllUsersButAdmin();
        FakeCrm::reset();
        self::startBrowser();
    }

    public static function tearDownAfterClass(): void
    {
        self::quitBrowser();
        foreach (self::$screenshots as $path) {
            fwrite(STDERR, "\nscreenshot: $path");
        }
        if (self::$screenshots) {
            fwrite(STDERR, "\n");
        }
    }

    /** Saves a screenshot and checks it is a PNG of the browser's size with some content. */
    private function screenshot(string $name): string
    {
        $path = $this->browser()->screenshot(Env::screenshotDir() . "/$name.png");
        $bytes = (string) file_get_contents($path);
        $this->assertStringStartsWith("\x89PNG\r\n\x1a\n", $bytes, "$path is not a PNG");
        $this->assertGreaterThan(10 * 1024, strlen($bytes), "$path is suspiciously small for a page");
        $size = getimagesize($path);
        $this->assertIsArray($size, "$path does not decode");
        $this->assertGreaterThanOrEqual(800, $size[0], "$path width");
        self::$screenshots[] = $path;
        return $path;
    }

    public function test_the_admin_logs_in_and_sees_the_webhook_urls(): void
    {
        $browser = $this->browser();
        $browser->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword());
        $this->assertStringContainsString('/wp-admin/', $browser->currentUrl());

        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $browser->waitFor('#wpf-bridge-settings-form');
        $this->screenshot('01-settings');

        $key = WordPress::accessKey();
        $expected = [
            'update' => ['wpf_action' => 'update'],
            'update-tags' => ['wpf_action' => 'update_tags'],
            'add' => ['wpf_action' => 'add'],
            'add-customer' => ['wpf_action' => 'add', 'role' => 'customer', 'send_notification' => 'true'],
            'test' => ['wpf_action' => 'test'],
        ];
        foreach ($expected as $id => $params) {
            $input = $browser->find("#wpf-bridge-url-$id");
            $this->assertNotNull($browser->attribute($input, 'readonly'), "#wpf-bridge-url-$id should be read-only");
            $url = (string) $browser->property($input, 'value');
            $this->assertStringStartsWith(Env::url() . '/?', $url, "#wpf-bridge-url-$id");
            parse_str((string) parse_url($url, PHP_URL_QUERY), $query);
            $want = $params + ['access_key' => $key];
            ksort($want);
            ksort($query);
            $this->assertSame($want, $query, "#wpf-bridge-url-$id: $url");
        }
        $add = (string) $browser->property($browser->find('#wpf-bridge-url-add'), 'value');
        $this->assertStringContainsString('access_key=' . $key, $add);
        $this->assertStringContainsString('wpf_action=add', $add);

        // The URL shown works: the test action answers 200 with it.
        $test = (new Http())->get((string) $browser->property($browser->find('#wpf-bridge-url-test'), 'value'));
        $this->assertSame(200, $test->status, $test->describe());
        $this->assertTrue($test->json()['success'] ?? null, $test->describe());

        // Secrets are write-only: the page never prints the stored CRM credentials.
        $source = $browser->source();
        foreach (['WPF_E2E_MAUTIC_PASSWORD', 'WPF_E2E_USERENGAGE_KEY'] as $secret) {
            $this->assertStringNotContainsString(Env::get($secret), $source, "the settings page shows $secret");
        }
        $this->assertSame('stored', $browser->attribute($browser->find('#wpf-bridge-mautic-password-status'), 'data-state'));
    }

    /** @depends test_the_admin_logs_in_and_sees_the_webhook_urls */
    public function test_a_setting_changed_in_the_form_is_saved(): void
    {
        $browser = $this->browser();
        WordPress::configure(['processing' => 'background', 'retry_delays' => [30, 120, 600, 3600, 21600, 86400], 'claim_timeout' => 300, 'keep_done_days' => 30]);
        $before = WordPress::settings();
        $this->assertSame('email', $before['username_format']);
        $this->assertNotSame('wp_pass_e2e', $before['return_password_field']);

        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $browser->click($browser->waitFor('#wpf-bridge-username-format option[value="flname"]'));
        $field = $browser->find('#wpf-bridge-return-password-field');
        $browser->clear($field);
        $browser->type($field, 'wp_pass_e2e');
        // The limits the extension reads are settings of the page too, with the extension's defaults.
        $timeout = $browser->find('#wpf-bridge-crm-timeout');
        $this->assertSame((string) $before['crm_timeout'], (string) $browser->property($timeout, 'value'));
        $this->assertSame('1048576', (string) $browser->property($browser->find('#wpf-bridge-max-body-bytes'), 'value'));
        $browser->clear($timeout);
        $browser->type($timeout, '5');
        // Each whole-number setting's help text is the range the extension enforces.
        $ranges = WordPress::php('return wpf_bridge_rules()["ranges"];');
        $this->assertNotEmpty($ranges);
        foreach ($ranges as $key => $range) {
            $help = $browser->text($browser->find('#wpf-bridge-' . str_replace('_', '-', $key) . '-description'));
            $this->assertStringContainsString(sprintf('Between %s and %s', number_format($range['min']), number_format($range['max'])), $help, $key);
            $this->assertStringContainsString(sprintf('the default is %s.', number_format($range['default'])), $help, $key);
        }
        $delays = WordPress::php('return wpf_bridge_rules()["retry_delays"];');
        $this->assertStringContainsString(sprintf('1 to %d delays of %s to %s seconds', $delays['most'], number_format($delays['min']), number_format($delays['max'])), $browser->text($browser->find('#wpf-bridge-settings-form')));
        // The page carries no inline style or event handler: those are in assets/admin.css and admin.js.
        $html = (string) $browser->execute('return document.getElementById("wpf-bridge-settings").outerHTML;');
        $this->assertDoesNotMatchRegularExpression('/\s(style|on[a-z]+)=/i', $html);
        $this->assertNotSame([], $browser->findAll('link#wpf-bridge-admin-css'), 'admin.css is not enqueued');
        // The queue's settings, with the extension's defaults shown.
        $this->assertTrue($browser->property($browser->find('#wpf-bridge-processing-background'), 'checked'));
        $this->assertSame('30, 120, 600, 3600, 21600, 86400', $browser->property($browser->find('#wpf-bridge-retry-delays'), 'value'));
        $this->assertSame('300', (string) $browser->property($browser->find('#wpf-bridge-claim-timeout'), 'value'));
        $this->assertSame('30', (string) $browser->property($browser->find('#wpf-bridge-keep-done-days'), 'value'));
        $this->assertStringContainsString('answer the CRM at once', $browser->text($browser->find('#wpf-bridge-processing')));
        $browser->click($browser->find('#wpf-bridge-processing-immediate'));
        foreach (['#wpf-bridge-retry-delays' => ' 5, 60,3600 ', '#wpf-bridge-claim-timeout' => '120', '#wpf-bridge-keep-done-days' => '7'] as $css => $value) {
            $input = $browser->find($css);
            $browser->clear($input);
            $browser->type($input, $value);
        }
        // The User.com hint is the API base the client needs, not the app's address.
        $this->assertStringContainsString('https://YOURAPP.user.com/api/public/', $browser->text($browser->find('#wpf-bridge-settings-form')));
        $browser->click($browser->find('#wpf-bridge-save'));
        $browser->waitFor('#wpf-bridge-notice-saved', 30);
        $browser->waitForLoad();
        $this->screenshot('02-settings-saved');
        $this->assertSame([], $browser->findAll('#wpf-bridge-notice-invalid-settings'));

        $after = WordPress::settings();
        $this->assertSame('flname', $after['username_format'], 'the option did not change in the database');
        $this->assertSame('wp_pass_e2e', $after['return_password_field'], 'the option did not change in the database');
        $this->assertSame(5, $after['crm_timeout'], 'the CRM timeout did not change in the database');
        $this->assertSame('immediate', $after['processing'], 'the processing mode did not change in the database');
        $this->assertSame([5, 60, 3600], $after['retry_delays'], 'the retry delays did not change in the database');
        $this->assertSame(120, $after['claim_timeout'], 'the claim timeout did not change in the database');
        $this->assertSame(7, $after['keep_done_days'], 'keep_done_days did not change in the database');
        $this->assertSame('5, 60, 3600', $browser->property($browser->find('#wpf-bridge-retry-delays'), 'value'));
        $this->assertTrue($browser->property($browser->find('#wpf-bridge-processing-immediate'), 'checked'));
        WordPress::configure(['processing' => 'background', 'retry_delays' => [30, 120, 600, 3600, 21600, 86400], 'claim_timeout' => 300, 'keep_done_days' => 30]);
        // The secret inputs were left empty: the stored secrets must be kept, not erased.
        foreach (['access_key', 'mautic_password', 'userengage_api_key', 'crm', 'mautic_url', 'allowed_roles'] as $key) {
            $this->assertSame($before[$key], $after[$key], "saving the form changed $key");
        }
        // And the form shows what was saved.
        $this->assertSame('flname', $browser->property($browser->find('#wpf-bridge-username-format'), 'value'));
    }

    /** @depends test_the_admin_logs_in_and_sees_the_webhook_urls */
    public function test_a_field_map_to_a_capability_meta_key_is_refused_on_the_page(): void
    {
        // Issue 8, finding 3: the settings page shows the refusal and stores nothing.
        $browser = $this->browser();
        $before = WordPress::settings();
        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $browser->type($browser->waitFor('#wpf-bridge-field-map-0-crm'), 'roles');
        $browser->type($browser->find('#wpf-bridge-field-map-0-wp'), 'wp_capabilities');
        $browser->click($browser->find('#wpf-bridge-save'));
        $notice = $browser->waitFor('#wpf-bridge-notice-invalid-settings', 30);
        $browser->waitForLoad();
        $this->screenshot('02b-field-map-refused');
        $this->assertStringContainsString('wp_capabilities', $browser->text($notice));
        $this->assertSame($before['field_map'], WordPress::settings()['field_map'], 'the refused field map was stored');
    }

    /**
     * @depends test_the_admin_logs_in_and_sees_the_webhook_urls
     * @dataProvider badQueueSettings
     */
    public function test_a_bad_queue_setting_is_refused_on_the_page(string $css, string $value, string $key): void
    {
        $browser = $this->browser();
        $before = WordPress::settings();
        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $input = $browser->waitFor($css);
        $browser->clear($input);
        $browser->type($input, $value);
        $browser->click($browser->find('#wpf-bridge-save'));
        $notice = $browser->waitFor('#wpf-bridge-notice-invalid-settings', 30);
        $browser->waitForLoad();
        $this->assertStringContainsString('"' . $key . '"', $browser->text($notice));
        // The rejected value is shown again for correction; nothing was stored.
        $this->assertSame(trim($value), trim((string) $browser->property($browser->find($css), 'value')));
        $this->assertSame($before, WordPress::settings(), "the refused $key was stored");
    }

    public static function badQueueSettings(): array
    {
        return [
            'a delay that is not a number' => ['#wpf-bridge-retry-delays', '30, soon, 600', 'retry_delays'],
            'a zero delay' => ['#wpf-bridge-retry-delays', '0', 'retry_delays'],
            'a claim timeout too short' => ['#wpf-bridge-claim-timeout', '5', 'claim_timeout'],
            'no days kept' => ['#wpf-bridge-keep-done-days', '0', 'keep_done_days'],
            'too many days kept' => ['#wpf-bridge-keep-done-days', '99999', 'keep_done_days'],
        ];
    }

    /** @depends test_the_admin_logs_in_and_sees_the_webhook_urls */
    public function test_test_connection_reaches_the_crm(): void
    {
        $browser = $this->browser();
        FakeCrm::reset();
        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $browser->click($browser->waitFor('#wpf-bridge-test-connection'));
        $notice = $browser->waitFor('#wpf-bridge-notice-connection-ok, #wpf-bridge-notice-connection-failed', 30);
        $this->assertSame('wpf-bridge-notice-connection-ok', $browser->attribute($notice, 'id'), 'notice: ' . $browser->text($notice));
        $requests = FakeCrm::requests();
        $this->assertNotEmpty($requests, 'the connection test did not call the CRM');
        $this->assertStringStartsWith('/mautic/api/', $requests[0]['path']);
        $this->assertSame('Basic ' . base64_encode(Env::get('WPF_E2E_MAUTIC_USER') . ':' . Env::get('WPF_E2E_MAUTIC_PASSWORD')),
            $requests[0]['headers']['authorization'] ?? null);
    }

    /** @depends test_the_admin_logs_in_and_sees_the_webhook_urls */
    public function test_the_old_log_url_leads_to_the_webhooks_page_which_lists_refused_requests(): void
    {
        // A request with a wrong key stores nothing: the webhooks page lists it under "Refused".
        $this->assertSame(403, self::postJson(self::webhookUrl('test', [], 'not-the-key'), '')->status);
        $this->assertSame(200, self::postJson(self::webhookUrl('test'), '')->status);

        $browser = $this->browser();
        $browser->get(Env::url() . '/wp-admin/tools.php?page=wpf-bridge-log');
        $browser->waitFor('#wpf-bridge-webhooks');
        $this->assertStringContainsString('page=wpf-bridge-webhooks', $browser->currentUrl(), 'the old log URL did not redirect');
        $this->assertSame('WPF Bridge Webhooks', $browser->text($browser->find('#wpf-bridge-webhooks h1')));
        $browser->click($browser->find('#wpf-bridge-view-refused'));
        $browser->waitFor('#wpf-bridge-requests');
        $browser->waitForLoad();
        $this->screenshot('03-webhooks-refused');

        $row = $browser->find('#wpf-bridge-requests tr.wpf-bridge-request');
        $this->assertSame(['403', 'invalid_access_key', 'test'], [
            $browser->attribute($row, 'data-status'),
            $browser->attribute($row, 'data-outcome'),
            $browser->text($browser->findIn($row, '.column-action')),
        ], 'the newest refused request');
        $table = $browser->text($browser->find('#wpf-bridge-requests'));
        $this->assertStringNotContainsString(WordPress::accessKey(), $table, 'the page shows the access key');
        $this->assertStringNotContainsString('not-the-key', $browser->source(), 'the page shows the wrong key that was sent');
        // The settings page links here.
        $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
        $this->assertStringContainsString('page=wpf-bridge-webhooks', (string) $browser->attribute($browser->waitFor('#wpf-bridge-webhooks-link'), 'href'));
    }

    /**
     * The pages replace the bidirectional controls the extension names (wpf_bridge_rules()'s
     * bidi_controls, the set its own messages use) in untrusted text, and nothing else.
     */
    public function test_the_pages_replace_the_extensions_bidi_controls_in_untrusted_text(): void
    {
        $controls = WordPress::php('return wpf_bridge_rules()["bidi_controls"];');
        $this->assertNotEmpty($controls);
        $text = '';
        foreach ($controls as [$first, $last]) {
            $text .= 'a' . mb_chr($first, 'UTF-8') . 'b' . mb_chr($last, 'UTF-8');
        }
        $kept = "c\u{200D}d\u{00E9}\u{05D0}";
        $this->assertSame(
            str_repeat("a\u{FFFD}b\u{FFFD}", count($controls)) . $kept,
            WordPress::php('return WPF_Bridge_Admin_View::neutralise( $args[0] );', [$text . $kept])
        );
    }
}
