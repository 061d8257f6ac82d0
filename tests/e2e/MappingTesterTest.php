<?php
// The settings page's "Test a webhook mapping" form (issue 16) in a real browser (headless
// Chromium): a preset reads its CRM's documented sample (tests/fixtures/<crm>/), signed where
// the CRM signs; a custom mapping reads a made-up CRM's sample; a bad mapping shows the
// extension's error naming the field by its pointer; a missing pointer shows the ignored item
// with the keys that were there; a script and bidi controls in the body are shown escaped and
// replaced; a custom mapping's signature is verified or refused; a post with a wrong nonce is
// refused. Every run is a dry run: no user, option, queue row or log row holds anything of the
// pasted body or secret afterwards. Order inside the class matters: the browser logs in once
// (first test) and keeps its session.
final class MappingTesterTest extends E2eTestCase
{
    use SharesBrowser;

    /** A made-up CRM's mapping, as the README's "Webhook mappings" example writes one. */
    private const ACME_MAPPING = [
        'slug' => 'acme',
        'format' => 'json',
        'items' => ['/people'],
        'contact_id' => ['pointers' => ['/ref'], 'type' => 'string'],
        'email' => '/mail',
        'tags' => ['pointer' => '/labels', 'pluck' => 'title'],
        'fields' => ['first_name' => '/given', 'nickname' => ['pointer' => '/nick', 'optional' => true]],
        'event_time' => '/changed',
        'complete' => true,
    ];

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic'));
        WordPress::deleteAllUsersButAdmin();
        FakeCrm::reset();
        self::startBrowser();
    }

    public static function tearDownAfterClass(): void
    {
        self::quitBrowser();
    }

    private static function page(): string
    {
        return Env::url() . '/wp-admin/options-general.php?page=wpf-bridge';
    }

    /**
     * Fills the tester's form on a freshly loaded settings page, submits it and waits for the result.
     *
     * @param array{preset?: string, mapping?: string, body?: string, headers?: string, secret?: string} $form
     */
    private function runTester(array $form): string
    {
        $browser = $this->browser();
        $browser->get(self::page());
        $browser->waitFor('#wpf-bridge-mapping-tester-form');
        $this->assertSame([], $browser->findAll('#wpf-bridge-tester-result'), 'a result before any run');
        $browser->click($browser->find('#wpf-bridge-tester-preset option[value="' . ($form['preset'] ?? 'custom') . '"]'));
        // Long texts are set as the field's value (typing them key by key is slow); the secret is typed.
        foreach (['mapping' => 'wpf-bridge-tester-mapping', 'body' => 'wpf-bridge-tester-body', 'headers' => 'wpf-bridge-tester-headers'] as $key => $id) {
            if (isset($form[$key])) {
                $browser->execute('document.getElementById(arguments[0]).value = arguments[1];', [$id, $form[$key]]);
            }
        }
        if (isset($form['secret'])) {
            $browser->type($browser->find('#wpf-bridge-tester-secret'), $form['secret']);
        }
        $browser->click($browser->find('#wpf-bridge-tester-submit'));
        $result = $browser->waitFor('#wpf-bridge-tester-result', 30);
        $browser->waitForLoad();
        return $result;
    }

    /** The text of one row (contact_id, email, tags, fields, timestamp, type) of a contact event read. */
    private function eventValue(int $event, string $field): string
    {
        $browser = $this->browser();
        $row = $browser->find("#wpf-bridge-tester-event-$event tr[data-field=\"$field\"] td");
        return $browser->text($row);
    }

    /** @return list<string> the tags listed for a contact event */
    private function eventTags(int $event): array
    {
        $browser = $this->browser();
        return array_map(fn (string $li): string => $browser->text($li), $browser->findAll("#wpf-bridge-tester-event-$event .wpf-bridge-tester-tags li"));
    }

    /** What a dry run may never change: users and their meta, the log, the queue. */
    private static function stateSnapshot(): array
    {
        return [
            'users' => WordPress::usersSnapshot(),
            'log' => WordPress::lastLogId(),
            'queue' => QueueTable::counts(),
        ];
    }

    /** Fails when any of the site's tables the plugin or WordPress write holds $marker. */
    private function assertNowhereInTheDatabase(string $marker): void
    {
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9-]+$/', $marker);
        $like = "'%" . $marker . "%'";
        foreach (['options', 'usermeta', 'users', 'wpf_bridge_log', 'wpf_bridge_queue'] as $table) {
            // Every column of the table, whatever it holds.
            $columns = array_column(WordPress::query('SHOW COLUMNS FROM ' . WordPress::table($table)), 0);
            $where = implode(' OR ', array_map(static fn (string $c): string => "CAST(`$c` AS CHAR) LIKE $like", $columns));
            $this->assertSame('0', WordPress::query('SELECT COUNT(*) FROM ' . WordPress::table($table) . " WHERE $where")[0][0], "$table holds the pasted $marker");
        }
    }

    public function test_a_preset_reads_its_crms_documented_sample(): void
    {
        $browser = $this->browser();
        $browser->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword());
        $browser->get(self::page());
        // The page links to the tester, which lists every preset the extension ships.
        $this->assertStringEndsWith('#wpf-bridge-mapping-tester', (string) $browser->attribute($browser->waitFor('#wpf-bridge-mapping-tester-link'), 'href'));
        $presets = WordPress::php('return array_keys(wpf_bridge_presets());');
        $this->assertNotEmpty($presets);
        $offered = array_map(fn (string $o): string => (string) $browser->attribute($o, 'value'), $browser->findAll('#wpf-bridge-tester-preset option'));
        $this->assertSame(array_merge($presets, ['custom']), $offered);

        $before = self::stateSnapshot();
        // ActiveCampaign's documented "contact update" (form-encoded, tags in the payload).
        $this->runTester([
            'preset' => 'activecampaign',
            'body' => (string) file_get_contents(__DIR__ . '/../fixtures/activecampaign/01_contact_update.form.txt'),
            'headers' => "Content-Type: application/x-www-form-urlencoded\n",
        ]);
        $this->assertSame([], $browser->findAll('#wpf-bridge-tester-error'), 'the preset could not read its sample');
        $this->assertCount(1, $browser->findAll('.wpf-bridge-tester-event'));
        $this->assertSame('1234', $this->eventValue(0, 'contact_id'));
        $this->assertSame('test.user@example.com', $this->eventValue(0, 'email'));
        $this->assertSame(['month', 'free_forever', 'not_active_0912', 'TIER1', 'app_notif_reminder_sent', 'free-day-fix-1'], $this->eventTags(0));
        $this->assertStringContainsString('first_name', $this->eventValue(0, 'fields'));
        $this->assertStringContainsString('Test', $this->eventValue(0, 'fields'));
        $this->assertSame('2023-07-12T06:49:04-05:00', $this->eventValue(0, 'timestamp'));
        $this->assertSame('none', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        // The page keeps no inline style or handler with the tester on it.
        $html = (string) $browser->execute('return document.getElementById("wpf-bridge-settings").outerHTML;');
        $this->assertDoesNotMatchRegularExpression('/\s(style|on[a-z]+)=/i', $html);
        $browser->screenshot(Env::screenshotDir() . '/mapping-tester-01-activecampaign.png');
        $this->assertSame($before, self::stateSnapshot(), 'the dry run changed the site');
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_signed_preset_shows_the_signature_verdict(): void
    {
        $browser = $this->browser();
        // MailerLite's documented subscriber.created, with the docs' example secret and its signature.
        $body = (string) file_get_contents(__DIR__ . '/../fixtures/mailerlite/01_subscriber_created_single.json');
        $signature = 'f499df0ebd1f8bb64c3a7743a0b7d6aa8df66ce3416796217d23ae74c01b329e';
        $this->assertSame($signature, hash_hmac('sha256', $body, 'ybmcD7PQ9R'), 'tests/fixtures/mailerlite/signatures.txt');
        $before = self::stateSnapshot();

        $this->runTester(['preset' => 'mailerlite', 'body' => $body, 'headers' => "Content-Type: application/json\nSignature: $signature", 'secret' => 'ybmcD7PQ9R']);
        $this->assertSame('verified', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        $this->assertSame('31986843064993537', $this->eventValue(0, 'contact_id'), 'the id is kept as the string sent');
        $this->assertSame('dummy@example.com', $this->eventValue(0, 'email'));
        $this->assertStringContainsString('API', $this->eventValue(0, 'fields'), 'an id-only preset says its fields come from the API');
        // The secret is never printed back.
        $this->assertStringNotContainsString('ybmcD7PQ9R', $browser->source());
        $this->assertSame('', (string) $browser->property($browser->find('#wpf-bridge-tester-secret'), 'value'));

        // A wrong secret: refused, and the page still shows what the body holds.
        $this->runTester(['preset' => 'mailerlite', 'body' => $body, 'headers' => "Signature: $signature", 'secret' => 'not-the-secret']);
        $this->assertSame('refused', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        $this->assertStringContainsString('Signature', $browser->text($browser->find('#wpf-bridge-tester-signature')));
        $this->assertSame('31986843064993537', $this->eventValue(0, 'contact_id'));

        // No secret: not checked.
        $this->runTester(['preset' => 'mailerlite', 'body' => $body]);
        $this->assertSame('unchecked', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        $this->assertSame($before, self::stateSnapshot(), 'the dry run changed the site');
        $this->assertNowhereInTheDatabase('ybmcD7PQ9R');
        $this->assertNowhereInTheDatabase('not-the-secret');
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_custom_mapping_reads_a_made_up_crms_sample(): void
    {
        $browser = $this->browser();
        $marker = 'acme-' . bin2hex(random_bytes(6));
        $body = json_encode(['people' => [
            ['ref' => "A-$marker", 'mail' => "$marker@example.com", 'labels' => [['title' => 'gold'], ['title' => 'vip']], 'given' => 'Ann', 'nick' => 'annie', 'changed' => '2026-11-30T10:00:00Z'],
            ['ref' => 'B-2', 'mail' => 'b2@example.com', 'labels' => [], 'given' => 'Bob', 'changed' => '2026-11-30T10:01:00Z'],
        ]]);
        $before = self::stateSnapshot();
        $this->runTester(['mapping' => json_encode(self::ACME_MAPPING, JSON_PRETTY_PRINT), 'body' => $body]);
        $this->assertSame([], $browser->findAll('#wpf-bridge-tester-error'));
        $this->assertCount(2, $browser->findAll('.wpf-bridge-tester-event'));
        $this->assertSame("A-$marker", $this->eventValue(0, 'contact_id'));
        $this->assertSame("$marker@example.com", $this->eventValue(0, 'email'));
        $this->assertSame(['gold', 'vip'], $this->eventTags(0));
        $fields = $this->eventValue(0, 'fields');
        $this->assertStringContainsString('first_name', $fields);
        $this->assertStringContainsString('Ann', $fields);
        $this->assertStringContainsString('nickname', $fields);
        $this->assertStringContainsString('annie', $fields);
        $this->assertSame('2026-11-30T10:00:00Z', $this->eventValue(0, 'timestamp'));
        $this->assertSame('B-2', $this->eventValue(1, 'contact_id'));
        $this->assertSame([], $this->eventTags(1));
        $this->assertStringContainsString('empty list', $this->eventValue(1, 'tags'));
        // The form shows the pasted mapping and body again for the next try.
        $this->assertSame('custom', $browser->property($browser->find('#wpf-bridge-tester-preset'), 'value'));
        $this->assertSame($body, $browser->property($browser->find('#wpf-bridge-tester-body'), 'value'));
        $this->assertTrue($browser->execute('return !document.getElementById("wpf-bridge-tester-mapping-row").hidden;'), 'the custom mapping field is hidden');
        $browser->screenshot(Env::screenshotDir() . '/mapping-tester-02-custom.png');
        // A dry run: nothing of it is stored.
        $this->assertSame($before, self::stateSnapshot(), 'the dry run changed the site');
        $this->assertNowhereInTheDatabase($marker);
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_bad_mapping_shows_the_error_with_its_pointer(): void
    {
        $browser = $this->browser();
        $mapping = self::ACME_MAPPING;
        $mapping['contact_id']['pointers'] = ['/ref', 'legacy_id'];
        $this->runTester(['mapping' => json_encode($mapping), 'body' => '{"people": []}']);
        $error = $browser->find('#wpf-bridge-tester-error');
        $this->assertSame('invalid_mapping', $browser->attribute($error, 'data-code'));
        $this->assertStringContainsString('/contact_id/pointers/1', $browser->text($error));
        $this->assertSame([], $browser->findAll('.wpf-bridge-tester-event'));

        // An unknown key is named too, and text that is no JSON object says so.
        $this->runTester(['mapping' => json_encode(self::ACME_MAPPING + ['contact_pointer' => '/id']), 'body' => '{}']);
        $this->assertStringContainsString('/contact_pointer', $browser->text($browser->find('#wpf-bridge-tester-error')));
        $this->runTester(['mapping' => '{"slug": "acme", ', 'body' => '{}']);
        $this->assertStringContainsString('not a JSON object', $browser->text($browser->find('#wpf-bridge-tester-error')));
        // A pasted signature section is validated even when no secret is typed.
        $signed = self::ACME_MAPPING + ['signature' => ['header' => 'X-Acme-Signature', 'algorithm' => 'md5', 'encoding' => 'hex']];
        $this->runTester(['mapping' => json_encode($signed), 'body' => '{"people": []}']);
        $error = $browser->find('#wpf-bridge-tester-error');
        $this->assertSame('invalid_mapping', $browser->attribute($error, 'data-code'));
        $this->assertStringContainsString('/signature/algorithm', $browser->text($error));
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_custom_signed_mapping_checks_its_signature(): void
    {
        $browser = $this->browser();
        $secret = 'acme-secret-' . bin2hex(random_bytes(6));
        $mapping = self::ACME_MAPPING + ['signature' => ['header' => 'X-Acme-Signature', 'algorithm' => 'sha256', 'encoding' => 'hex', 'prefix' => 'sha256=']];
        $body = '{"people": [{"ref": "S-1", "mail": "s1@example.com", "labels": [], "given": "Sam", "changed": "2026-11-30T10:00:00Z"}]}' . "\n";
        $header = 'X-Acme-Signature: sha256=' . hash_hmac('sha256', $body, $secret);

        $this->runTester(['mapping' => json_encode($mapping), 'body' => $body, 'headers' => $header, 'secret' => $secret]);
        $this->assertSame('verified', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'), 'the body as pasted (LF line ends) is what is signed');
        $this->assertSame('S-1', $this->eventValue(0, 'contact_id'));

        // The body changed by one byte: refused, and what it holds is still shown.
        $this->runTester(['mapping' => json_encode($mapping), 'body' => str_replace('Sam', 'Sal', $body), 'headers' => $header, 'secret' => $secret]);
        $this->assertSame('refused', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        $this->assertStringContainsString('Sal', $this->eventValue(0, 'fields'));

        // No secret typed: the reading, with the signature not checked.
        $this->runTester(['mapping' => json_encode($mapping), 'body' => $body, 'headers' => $header]);
        $this->assertSame('unchecked', $browser->attribute($browser->find('#wpf-bridge-tester-signature'), 'data-state'));
        $this->assertSame('S-1', $this->eventValue(0, 'contact_id'));
        $this->assertStringNotContainsString($secret, $browser->source());
        $this->assertNowhereInTheDatabase($secret);
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_missing_pointer_shows_the_ignored_item_with_the_keys_found(): void
    {
        $browser = $this->browser();
        $body = json_encode(['people' => [
            ['ref' => 'A-1', 'mail' => 'a1@example.com', 'labels' => [], 'given' => 'Ann', 'changed' => '2026-11-30T10:00:00Z'],
            ['id' => 'no-ref', 'email_address' => 'secret-value@example.com'],
        ]]);
        $this->runTester(['mapping' => json_encode(self::ACME_MAPPING), 'body' => $body]);
        $this->assertCount(1, $browser->findAll('.wpf-bridge-tester-event'));
        $ignored = $browser->findAll('.wpf-bridge-tester-ignored');
        $this->assertCount(1, $ignored);
        $this->assertSame('pointer_missing', $browser->attribute($ignored[0], 'data-code'));
        $text = $browser->text($ignored[0]);
        $this->assertStringContainsString('/ref', $text);
        $this->assertStringContainsString('"id", "email_address"', $text, 'the keys that were there');
        $this->assertStringNotContainsString('secret-value', $text, 'a value of the body is named');
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_script_and_bidi_controls_in_the_body_are_shown_escaped(): void
    {
        $browser = $this->browser();
        $script = '<script>window.wpfBridgeTesterXss = 1;</script>';
        $body = json_encode(['people' => [
            ['ref' => 'X-1', 'mail' => 'x1@example.com', 'labels' => [['title' => $script], ['title' => "<img src=x onerror=\"window.wpfBridgeTesterXss = 2\">"]], 'given' => "\u{202E}nnA", 'changed' => '2026-11-30T10:00:00Z'],
        ]], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        $this->runTester(['mapping' => json_encode(self::ACME_MAPPING), 'body' => $body]);
        $this->assertNull($browser->execute('return window.wpfBridgeTesterXss === undefined ? null : window.wpfBridgeTesterXss;'), 'the body ran a script');
        $this->assertSame([$script, '<img src=x onerror="window.wpfBridgeTesterXss = 2">'], $this->eventTags(0));
        $this->assertSame([], $browser->findAll('#wpf-bridge-tester-result script, #wpf-bridge-tester-result img'));
        $fields = $this->eventValue(0, 'fields');
        $this->assertStringNotContainsString("\u{202E}", $fields);
        $this->assertStringContainsString("\u{FFFD}nnA", $fields);
        $source = $browser->source();
        $this->assertStringContainsString('&lt;script&gt;window.wpfBridgeTesterXss', $source);
    }

    /** @depends test_a_preset_reads_its_crms_documented_sample */
    public function test_a_post_without_the_testers_nonce_is_refused(): void
    {
        $admin = $this->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword())['client'];
        $html = $admin->get(self::page())->body;
        $this->assertSame(1, preg_match('/name="_wpf_bridge_mapping_nonce" value="([0-9a-f]+)"/', $html, $m), 'no tester nonce on the page');
        $nonce = $m[1];
        $this->assertSame(1, preg_match('/name="_wpf_bridge_save_nonce" value="([0-9a-f]+)"/', $html, $s), 'no save nonce on the page');
        $fields = [
            'wpf_bridge_action' => 'test_mapping',
            'wpf_bridge_tester_preset' => 'custom',
            'wpf_bridge_tester_action' => 'update',
            'wpf_bridge_tester_mapping' => json_encode(self::ACME_MAPPING),
            'wpf_bridge_tester_body' => '{"people": [{"ref": "N-1", "mail": "n1@example.com", "labels": [], "given": "N", "changed": "2026-11-30T10:00:00Z"}]}',
        ];
        foreach ([
            'no nonce' => [],
            'a made-up nonce' => ['_wpf_bridge_mapping_nonce' => 'deadbeef00'],
            "the save form's nonce" => ['_wpf_bridge_mapping_nonce' => $s[1]],
        ] as $what => $nonceField) {
            $response = $admin->postForm(self::page(), $fields + $nonceField);
            $this->assertSame(403, $response->status, "$what: " . $response->describe());
            $this->assertStringNotContainsString('wpf-bridge-tester-result', $response->body, $what);
            $this->assertStringNotContainsString('N-1', $response->body, $what);
        }
        // The same post with the right nonce runs: the refusals above were the nonce's.
        $response = $admin->postForm(self::page(), $fields + ['_wpf_bridge_mapping_nonce' => $nonce]);
        $this->assertSame(200, $response->status, $response->describe());
        $this->assertStringContainsString('id="wpf-bridge-tester-result"', $response->body);
        $this->assertStringContainsString('<code>N-1</code>', $response->body);
    }
}
