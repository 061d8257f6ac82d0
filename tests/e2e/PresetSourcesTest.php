<?php
// Issue 16's presets and a site's own mapping, end to end: each documented sample of
// tests/fixtures/<crm>/ sent as the CRM sends it (its Content-Type, its signature header) to a
// site whose further source reads that preset, stored in the queue, drained by the requests'
// own drain (background processing), and the WordPress user created (`add`) or updated
// (`update`), linked by `{slug}_contact_id` with the id exactly as sent, its tags in
// `{slug}_tags` and its fields written. MailerLite's preset is id-only: the subscriber is
// loaded from the fake CRM's MailerLite API (seeded per test). The first source stays Mautic.
// A request whose every item its mapping could not read is logged `ignored`, and the webhooks
// page lists it with the pointer and the key names, never the values.
final class PresetSourcesTest extends E2eTestCase
{
    private const MAILERLITE_SECRET = 'ybmcD7PQ9R'; // tests/fixtures/mailerlite/signatures.txt
    private const PIPEMILL_SECRET = 'pipemill-signing-secret-42';
    private const JSON = ['Content-Type' => 'application/json'];

    /** Each source's access key, by slug. */
    private const KEYS = [
        'activecampaign' => 'e2e-activecampaign-key-1',
        'mailerlite' => 'e2e-mailerlite-key-1',
        'drip' => 'e2e-drip-key-1',
        'convertkit' => 'e2e-kit-key-1',
        'highlevel' => 'e2e-highlevel-key-1',
        'pipemill' => 'e2e-pipemill-key-1',
    ];

    private static array $original = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
        WordPress::deleteAllUsersButAdmin();
        $crm = Env::get('WPF_E2E_CRM_URL');
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'processing' => 'background',
            'return_password' => false,
            'return_password_field' => '',
            'allowed_roles' => [],
            'sources' => [
                ['mapping' => 'activecampaign', 'access_key' => self::KEYS['activecampaign'],
                    'api_url' => "$crm/activecampaign", 'api_key' => 'activecampaign-token'],
                ['mapping' => 'mailerlite', 'access_key' => self::KEYS['mailerlite'], 'webhook_secret' => self::MAILERLITE_SECRET,
                    'api_url' => "$crm/mailerlite/api", 'api_key' => 'mailerlite-token'],
                ['mapping' => 'drip', 'access_key' => self::KEYS['drip']],
                ['mapping' => 'convertkit', 'access_key' => self::KEYS['convertkit']],
                ['mapping' => 'highlevel', 'access_key' => self::KEYS['highlevel']],
                ['mapping' => json_decode(Fixtures::read('custom/pipemill_mapping.json'), true),
                    'access_key' => self::KEYS['pipemill'], 'webhook_secret' => self::PIPEMILL_SECRET],
            ],
        ]));
    }

    public static function tearDownAfterClass(): void
    {
        WordPress::php('WPF_Bridge_Settings::save( $args ); return true;', self::$original);
        FakeCrm::reset();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        QueueTable::reset();
    }

    /**
     * Sends a webhook to the source's URL; asserts it was accepted (200, the source's slug)
     * and returns the answer's JSON.
     */
    private function deliver(string $slug, string $action, string $body, array $headers): array
    {
        $response = (new Http())->request('POST', self::webhookUrl($action, [], self::KEYS[$slug]), $body, $headers);
        $this->assertSame(200, $response->status, $response->describe());
        $json = $response->json();
        $this->assertTrue($json['success'] ?? null, $response->describe());
        $this->assertSame($slug, $json['crm'] ?? null, $response->describe());
        $this->assertSame($action, $json['action'] ?? null, $response->describe());
        return $json;
    }

    /**
     * Waits until the requests' own drain settled every queued event (no CLI worker run) and
     * returns the rows of $queued, each done with $outcomes[i].
     *
     * @param list<array{contact_id: string, id: int}> $queued the answer's `queued`
     * @return list<array<string, string>>
     */
    private function drained(array $queued, array $outcomes): array
    {
        $this->assertCount(count($outcomes), $queued, json_encode($queued));
        $wait = QueueTable::waitUntilSettled(30);
        $this->assertSame(0, $wait['unsettled'], 'events still waiting: ' . json_encode(QueueTable::rows()));
        $rows = QueueTable::rows(array_column($queued, 'id'));
        $out = [];
        foreach (array_values($queued) as $at => $q) {
            $row = $rows[(int) $q['id']] ?? null;
            $this->assertNotNull($row, "queue row {$q['id']} is gone");
            $this->assertSame(['done', $outcomes[$at]], [$row['state'], $row['outcome']], json_encode($row));
            $this->assertSame((string) $q['contact_id'], $row['contact_id']);
            $out[] = $row;
        }
        return $out;
    }

    /** The user a source's contact id links, read afresh; exactly one. */
    private function linkedUser(string $slug, string $contactId): array
    {
        $ids = WordPress::userIdsWithMeta("{$slug}_contact_id", $contactId);
        $this->assertCount(1, $ids, "users linked to $slug contact $contactId");
        return WordPress::user($ids[0]);
    }

    /** The MailerLite signature recorded for a fixture, checked against the bytes it signs. */
    private static function mailerLiteSignature(string $fixture): string
    {
        foreach (file(Fixtures::path('mailerlite/signatures.txt'), FILE_IGNORE_NEW_LINES) as $line) {
            if (str_starts_with($line, basename($fixture) . "\t")) {
                $signature = explode("\t", $line)[1];
                self::assertSame($signature, hash_hmac('sha256', Fixtures::read($fixture), self::MAILERLITE_SECRET),
                    'the fixture is not the byte sequence signatures.txt signs');
                return $signature;
            }
        }
        throw new RuntimeException("no signature for $fixture");
    }

    public function test_activecampaign_form_webhooks_create_then_update_the_user(): void
    {
        $users = WordPress::countUsers();
        $form = ['Content-Type' => 'application/x-www-form-urlencoded'];
        $answer = $this->deliver('activecampaign', 'add', Fixtures::read('activecampaign/01_contact_update.form.txt'), $form);
        $this->drained($answer['queued'], ['created']);
        $this->assertSame($users + 1, WordPress::countUsers());
        $user = $this->linkedUser('activecampaign', '1234');
        $this->assertSame('test.user@example.com', $user['email']);
        $this->assertSame(['Test', 'User'], [$user['first_name'], $user['last_name']]);
        $this->assertSame('+15555555555', $user['meta']['phone'] ?? null);
        $this->assertSameTags(['month', 'free_forever', 'not_active_0912', 'TIER1', 'app_notif_reminder_sent', 'free-day-fix-1'],
            $user['meta']['activecampaign_tags'] ?? null);
        $this->assertArrayNotHasKey('mautic_contact_id', $user['meta']);
        $this->assertNoCrmRequests('ActiveCampaign\'s payload carries the contact');

        // contact_tag_added: the tags it sends replace the user's; an empty phone wipes nothing.
        $answer = $this->deliver('activecampaign', 'update', Fixtures::read('activecampaign/02_contact_tag_added.form.txt'), $form);
        $this->drained($answer['queued'], ['updated']);
        $after = WordPress::user($user['id']);
        $this->assertSameTags(['month', 'TIER1'], $after['meta']['activecampaign_tags'] ?? null);
        $this->assertSame('+15555555555', $after['meta']['phone'] ?? null);
        $this->assertSame($users + 1, WordPress::countUsers());
    }

    public function test_mailerlite_signed_single_and_batch_load_the_subscribers_from_its_api(): void
    {
        $subscribers = [
            '31986843064993537' => ['dummy@example.com', 'Dummy', 'Testerson', ['VIP', 'Newsletter']],
            '31986843064993538' => ['second@example.com', 'Second', null, ['Newsletter']],
            '31986843064993539' => ['third@example.com', 'Third', 'Person', []],
        ];
        foreach ($subscribers as $id => [$email, $first, $last, $groups]) {
            FakeCrm::control('POST', 'mailerlite/subscribers', [
                'id' => $id, 'email' => $email,
                'fields' => ['name' => $first, 'last_name' => $last, 'city' => 'Vilnius'],
                'groups' => array_map(static fn (string $g, int $i): array => ['id' => (string) (10 + $i), 'name' => $g], $groups, array_keys($groups)),
            ], 201);
        }
        $users = WordPress::countUsers();

        $fixture = 'mailerlite/01_subscriber_created_single.json';
        $answer = $this->deliver('mailerlite', 'add', Fixtures::read($fixture), self::JSON + ['Signature' => self::mailerLiteSignature($fixture)]);
        $this->drained($answer['queued'], ['created']);
        $user = $this->linkedUser('mailerlite', '31986843064993537');
        $this->assertSame('dummy@example.com', $user['email']);
        $this->assertSame(['Dummy', 'Testerson'], [$user['first_name'], $user['last_name']]);
        $this->assertSameTags(['VIP', 'Newsletter'], $user['meta']['mailerlite_tags'] ?? null, 'the groups from the API');
        $requests = FakeCrm::requests();
        $this->assertSame(['GET /mailerlite/api/subscribers/31986843064993537'],
            array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], $requests), FakeCrm::describe($requests));
        $this->assertSame('Bearer mailerlite-token', $requests[0]['headers']['authorization'] ?? null);

        // The batch of three: the first is linked already (updated), the others are new.
        FakeCrm::control('POST', 'mailerlite/subscribers', ['id' => '31986843064993537', 'email' => 'dummy@example.com',
            'fields' => ['name' => 'Dummy', 'last_name' => 'Renamed'], 'groups' => [['id' => '10', 'name' => 'VIP']]], 201);
        $fixture = 'mailerlite/02_subscribers_updated_batch_of_3.json';
        $answer = $this->deliver('mailerlite', 'add', Fixtures::read($fixture), self::JSON + ['Signature' => self::mailerLiteSignature($fixture)]);
        $this->assertSame(['31986843064993537', '31986843064993538', '31986843064993539'], array_column($answer['queued'], 'contact_id'), json_encode($answer));
        $this->drained($answer['queued'], ['updated', 'created', 'created']);
        $this->assertSame($users + 3, WordPress::countUsers());
        $first = $this->linkedUser('mailerlite', '31986843064993537');
        $this->assertSame($user['id'], $first['id']);
        $this->assertSame('Renamed', $first['last_name']);
        $this->assertSameTags(['VIP'], $first['meta']['mailerlite_tags'] ?? null);
        foreach (['31986843064993538', '31986843064993539'] as $id) {
            [$email, $given, , $groups] = $subscribers[$id];
            $linked = $this->linkedUser('mailerlite', $id);
            $this->assertSame($email, $linked['email']);
            $this->assertSame($given, $linked['first_name']);
            $this->assertSameTags($groups, $linked['meta']['mailerlite_tags'] ?? []);
        }

        // subscriber.added_to_group ({subscriber, group}): the groups come from the API.
        FakeCrm::control('POST', 'mailerlite/subscribers', ['id' => '31986843064993537', 'email' => 'dummy@example.com',
            'fields' => ['name' => 'Dummy', 'last_name' => 'Renamed'], 'groups' => [['id' => '10', 'name' => 'VIP'], ['id' => '67153591149823347', 'name' => 'Customers']]], 201);
        $fixture = 'mailerlite/03_subscriber_added_to_group.json';
        $answer = $this->deliver('mailerlite', 'update', Fixtures::read($fixture), self::JSON + ['Signature' => self::mailerLiteSignature($fixture)]);
        $this->drained($answer['queued'], ['updated']);
        $this->assertSameTags(['VIP', 'Customers'], WordPress::user($user['id'])['meta']['mailerlite_tags'] ?? null);

        // The classic API's documented example (a number id under /events/0/data/subscriber);
        // signatures.txt has no vector for it, so it is signed here with the preset's scheme.
        FakeCrm::control('POST', 'mailerlite/subscribers', ['id' => '2300951083', 'email' => 'guy.random@example.com',
            'fields' => ['name' => 'Guy', 'last_name' => 'Random']], 201);
        $body = Fixtures::read('mailerlite/04_classic_subscriber_create.json');
        $answer = $this->deliver('mailerlite', 'add', $body, self::JSON + ['Signature' => hash_hmac('sha256', $body, self::MAILERLITE_SECRET)]);
        $this->drained($answer['queued'], ['created']);
        $guy = $this->linkedUser('mailerlite', '2300951083');
        $this->assertSame(['guy.random@example.com', 'Guy', 'Random'], [$guy['email'], $guy['first_name'], $guy['last_name']]);
        $this->assertSame($users + 4, WordPress::countUsers());
    }

    public function test_a_mailerlite_body_with_a_wrong_or_missing_signature_is_refused_and_stores_nothing(): void
    {
        $body = Fixtures::read('mailerlite/01_subscriber_created_single.json');
        $other = self::mailerLiteSignature('mailerlite/02_subscribers_updated_batch_of_3.json');
        $cases = [
            'the signature of another body' => [$body, ['Signature' => $other]],
            'a tampered body' => [str_replace('dummy@example.com', 'mallory@example.com', $body), ['Signature' => self::mailerLiteSignature('mailerlite/01_subscriber_created_single.json')]],
            'signed with another secret' => [$body, ['Signature' => hash_hmac('sha256', $body, 'not-the-secret')]],
            'no signature' => [$body, []],
        ];
        foreach ($cases as $case => [$payload, $headers]) {
            $before = WordPress::usersSnapshot();
            $response = self::postJson(self::webhookUrl('add', [], self::KEYS['mailerlite']), $payload, $headers);
            $this->assertWebhookError($response, 403, 'signature_rejected');
            $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), $case);
            $this->assertSame([], QueueTable::counts(), "$case: something was queued");
        }
        $this->assertNoCrmRequests('refused webhooks must not reach the CRM');
    }

    public function test_drip_events_apply_their_tags_and_other_events_are_ignored(): void
    {
        $users = WordPress::countUsers();
        $answer = $this->deliver('drip', 'add', Fixtures::read('drip/01_subscriber_applied_tag.json'), self::JSON);
        $this->drained($answer['queued'], ['created']);
        $user = $this->linkedUser('drip', 'z1togz2hcjrkpp5treip');
        $this->assertSame('john@acme.com', $user['email']);
        $this->assertSame(['John', 'Doe'], [$user['first_name'], $user['last_name']]);
        $this->assertSameTags(['Customer', 'SEO'], $user['meta']['drip_tags'] ?? null);

        $answer = $this->deliver('drip', 'update', Fixtures::read('drip/02_subscriber_removed_tag_no_tags_left.json'), self::JSON);
        $this->drained($answer['queued'], ['updated']);
        $this->assertSameTags([], WordPress::user($user['id'])['meta']['drip_tags'] ?? null, 'no tags left');

        // An event outside the preset's `when`: answered ignored, nothing queued, logged.
        $logId = self::foldedLastLogId();
        $rows = count(QueueTable::rows());
        $answer = $this->deliver('drip', 'update', Fixtures::read('drip/03_subscriber_opened_email.json'), self::JSON);
        $this->assertSame([], $answer['queued'], json_encode($answer));
        $this->assertSame(['condition_not_met'], array_column($answer['ignored'] ?? [], 'code'), json_encode($answer));
        $this->assertCount($rows, QueueTable::rows(), 'an ignored item was queued');
        $row = $this->assertOneNewLogRow($logId, 200);
        $this->assertSame(['ignored', 'drip'], [$row['outcome'], $row['crm']]);
        $this->assertStringContainsString('/event', $row['details']);

        // The automation webhook's shape (no event name).
        $answer = $this->deliver('drip', 'update', Fixtures::read('drip/04_automation_webhook_subscriber_ASSUMED.json'), self::JSON);
        $this->drained($answer['queued'], ['updated']);
        $this->assertSameTags(['Customer', 'SEO', 'Webinar'], WordPress::user($user['id'])['meta']['drip_tags'] ?? null);
        $this->assertSame($users + 1, WordPress::countUsers());
        $this->assertNoCrmRequests('Drip\'s payload carries the subscriber');
    }

    public function test_kit_subscriber_event_creates_the_user_without_tags(): void
    {
        $answer = $this->deliver('convertkit', 'add', Fixtures::read('convertkit/01_subscriber_event.json'), self::JSON);
        $this->assertSame('1', $answer['queued'][0]['contact_id'] ?? null, 'Kit\'s number id as text');
        $this->drained($answer['queued'], ['created']);
        $user = $this->linkedUser('convertkit', '1');
        $this->assertSame('john@example.com', strtolower($user['email']));
        $this->assertSame('John', $user['first_name']);
        $this->assertArrayNotHasKey('convertkit_tags', $user['meta'], 'Kit sends no tags: none are written');
        $this->assertNoCrmRequests('Kit\'s payload carries the subscriber');
    }

    public function test_highlevel_keeps_its_string_id_and_splits_its_tags(): void
    {
        $answer = $this->deliver('highlevel', 'add', Fixtures::read('highlevel/01_workflow_webhook_contact_MODELLED.json'), self::JSON);
        $this->drained($answer['queued'], ['created']);
        $user = $this->linkedUser('highlevel', 'CWBf1PR9LvvBkcYqiXlc');
        $this->assertSame('CWBf1PR9LvvBkcYqiXlc', $user['meta']['highlevel_contact_id'] ?? null, 'the id exactly as sent, never a number');
        $this->assertSame('jane.doe@example.com', strtolower($user['email']));
        $this->assertSame(['Jane', 'Doe'], [$user['first_name'], $user['last_name']]);
        $this->assertSame('+15555550123', $user['meta']['phone'] ?? null);
        $this->assertSameTags(['customer', 'vip', 'webinar-2024'], $user['meta']['highlevel_tags'] ?? null);
        $this->assertNoCrmRequests('HighLevel\'s payload carries the contact');
    }

    /**
     * A made-up CRM read by the site's own mapping (tests/fixtures/custom/): a signed batch
     * under /records (sha1, base64, "sha1=" prefix), a key with a dot in its name, an integer
     * id from either of two keys, tags plucked from objects, a meta field; its middle item is
     * another kind of event, ignored and logged while the other two are stored and drained.
     */
    public function test_a_custom_mapping_source_applies_a_made_up_crms_batch(): void
    {
        $body = Fixtures::read('custom/pipemill_batch.json');
        $signature = 'sha1=' . base64_encode(hash_hmac('sha1', $body, self::PIPEMILL_SECRET, true));
        $users = WordPress::countUsers();
        $logId = self::foldedLastLogId();

        $answer = $this->deliver('pipemill', 'add', $body, self::JSON + ['X-Pipemill-Signature' => $signature]);
        $this->assertSame(['4401', '4402'], array_column($answer['queued'], 'contact_id'), json_encode($answer));
        $this->assertSame([[2, 'condition_not_met']], array_map(static fn (array $i): array => [$i['item'], $i['code']], $answer['ignored'] ?? []), json_encode($answer));
        // Stored events and an ignored item in one answer: the request still drains its events.
        $this->drained($answer['queued'], ['created', 'created']);
        $this->assertSame($users + 2, WordPress::countUsers());
        $ada = $this->linkedUser('pipemill', '4401');
        $this->assertSame(['ada@pipemill.example', 'Ada', 'Lovelace'], [$ada['email'], $ada['first_name'], $ada['last_name']]);
        $this->assertSame('gold', $ada['meta']['pipemill_plan'] ?? null);
        $this->assertSameTags(['engine', 'vip'], $ada['meta']['pipemill_tags'] ?? null);
        $grace = $this->linkedUser('pipemill', '4402');
        $this->assertSame(['grace@pipemill.example', 'Grace'], [$grace['email'], $grace['first_name']]);
        $this->assertArrayNotHasKey('pipemill_plan', $grace['meta']);
        $this->assertSameTags([], $grace['meta']['pipemill_tags'] ?? null);
        $row = $this->assertOneNewLogRow($logId, 200);
        $this->assertSame(['ignored', 'pipemill'], [$row['outcome'], $row['crm']]);
        $this->assertStringContainsString('item 2 was not read', $row['details']);

        // The same body unsigned, or signed with another secret, is refused.
        foreach (['no signature' => [], 'another secret' => ['X-Pipemill-Signature' => 'sha1=' . base64_encode(hash_hmac('sha1', $body, 'other', true))]] as $case => $headers) {
            $before = WordPress::usersSnapshot();
            $response = self::postJson(self::webhookUrl('update', [], self::KEYS['pipemill']), $body, $headers);
            $this->assertWebhookError($response, 403, 'signature_rejected');
            $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), $case);
        }
    }

    /**
     * Kit's purchase event has no subscriber: the request is answered 200 with the item
     * ignored (nothing queued), in background and immediate processing alike, and the
     * webhooks page's "Errors and tests" list shows its record: the pointer that failed and
     * the payload's key names, never a value.
     */
    public function test_an_unreadable_request_is_listed_on_the_webhooks_page_with_key_names_only(): void
    {
        $body = Fixtures::read('convertkit/02_purchase_event.json');
        $values = ['crashoverride@hackers.com', '123-abcd-456-efgh', 'Floppy Disk', 'Telephone Cord', 'JPY'];
        $records = [];
        foreach (['background' => [], 'immediate' => ['async' => 'false']] as $processing => $params) {
            $logId = self::foldedLastLogId();
            $response = self::postJson(self::webhookUrl('add', $params, self::KEYS['convertkit']), $body);
            $this->assertSame(200, $response->status, $response->describe());
            $json = $response->json();
            $this->assertSame([['pointer_missing', null]], array_map(static fn (array $i): array => [$i['code'], $i['item']], $json['ignored'] ?? []), $response->describe());
            $this->assertSame([], $json[$processing === 'background' ? 'queued' : 'results'] ?? null, $response->describe());
            $row = $this->assertOneNewLogRow($logId, 200);
            $this->assertSame(['add', 'convertkit', 'ignored'], [$row['action'], $row['crm'], $row['outcome']], "$processing: " . json_encode($row));
            $records[$processing] = $row;
        }
        $this->assertSame([], QueueTable::counts(), 'nothing was queued');

        $admin = $this->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword())['client'];
        $page = $admin->get(Env::url() . '/wp-admin/tools.php?page=wpf-bridge-webhooks&state=unstored');
        $this->assertSame(200, $page->status, $page->describe());
        foreach ($records as $processing => $row) {
            $this->assertSame(1, preg_match('~<tr class="wpf-bridge-request" data-id="' . $row['id'] . '"[^>]*data-outcome="ignored"[^>]*>(.*?)</tr>~s', $page->body, $m),
                "$processing: the request's row is not on the page");
            $details = html_entity_decode(strip_tags($m[1]), ENT_QUOTES);
            $this->assertStringContainsString('convertkit', $details);
            $this->assertStringContainsString('/subscriber/id', $details, "$processing: the pointer that failed");
            foreach (['id', 'transaction_id', 'email_address', 'currency', 'products'] as $key) {
                $this->assertStringContainsString("\"$key\"", $details, "$processing: the key $key");
            }
            foreach ($values as $value) {
                $this->assertStringNotContainsString($value, $details, "$processing: a value of the body is shown");
            }
        }
        foreach ($values as $value) {
            $this->assertStringNotContainsString($value, $page->body, 'a value of the body is on the page');
        }
    }
}
