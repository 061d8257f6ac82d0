<?php
// Several sources on one site (issue 16), over real HTTP: the first source Mautic (signed
// with its webhook secret) and a MailerLite source (its `Signature`, subscribers loaded from
// the fake CRM's MailerLite API), each with its own access key.
//   - interleaved webhooks of both, for contacts with the same ids in both CRMs: every user
//     ends linked to the CRM that sent it, never to the other; one source's body sent to the
//     other's key is refused or ignored, never applied;
//   - deleting a source refuses its key at once, and its events still queued fail with
//     event_from_other_crm when drained, while the first source's apply;
//   - bad input over the wire for a source: a 4xx with a stable code or an `ignored` answer,
//     never a 5xx, nothing stored, no user changed;
//   - no answer nor log record holds a source's secret or key.
final class SourcesTest extends E2eTestCase
{
    private const MAUTIC_SECRET = 'mautic-e2e-signing-secret';
    private const MAILERLITE_SECRET = 'ybmcD7PQ9R';
    private const MAILERLITE_KEY = 'e2e-sources-mailerlite-key';
    private const DRIP_KEY = 'e2e-sources-drip-key';
    private const ACTIVECAMPAIGN_KEY = 'e2e-sources-activecampaign-key';

    private static array $original = [];

    public static function setUpBeforeClass(): void
    {
        self::$original = WordPress::settings();
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
        WordPress::deleteAllUsersButAdmin();
        WordPress::configure(self::settings(true));
    }

    /** Mautic first (signed), MailerLite as a further source when $withMailerLite; Drip and ActiveCampaign beside. */
    private static function settings(bool $withMailerLite): array
    {
        $crm = Env::get('WPF_E2E_CRM_URL');
        $sources = [
            ['mapping' => 'drip', 'access_key' => self::DRIP_KEY],
            ['mapping' => 'activecampaign', 'access_key' => self::ACTIVECAMPAIGN_KEY],
        ];
        if ($withMailerLite) {
            array_unshift($sources, ['mapping' => 'mailerlite', 'access_key' => self::MAILERLITE_KEY, 'webhook_secret' => self::MAILERLITE_SECRET,
                'api_url' => "$crm/mailerlite/api", 'api_key' => 'mailerlite-token']);
        }
        return WordPress::fakeCrmSettings('mautic', [
            'webhook_secret' => self::MAUTIC_SECRET,
            'processing' => 'background',
            'return_password' => false,
            'return_password_field' => '',
            'allowed_roles' => [],
            'sources' => $sources,
        ]);
    }


    /** A Mautic "contact identified" body for one contact, with its fields and tags. */
    private static function mauticBody(int $id, string $email, string $first): string
    {
        return json_encode(['mautic.lead_post_save_new' => [[
            'contact' => ['id' => $id, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => $email],
                'firstname' => ['alias' => 'firstname', 'value' => $first],
            ]], 'tags' => [['tag' => 'from-mautic']]],
            'timestamp' => '2026-12-01T10:00:00+00:00',
        ]]]);
    }

    /** A MailerLite `subscriber.created` body (fixture 01's shape) for one subscriber. */
    private static function mailerLiteBody(string $id, string $email): string
    {
        return json_encode(['id' => $id, 'email' => $email, 'status' => 'active', 'fields' => ['name' => 'Whoever'],
            'updated_at' => '2026-12-01 10:00:00', 'type' => 'subscriber.created']);
    }

    private static function seedSubscriber(string $id, string $email, string $name): void
    {
        FakeCrm::control('POST', 'mailerlite/subscribers', ['id' => $id, 'email' => $email, 'fields' => ['name' => $name],
            'groups' => [['id' => '1', 'name' => 'from-mailerlite']]], 201);
    }

    private static function sendMautic(string $body, ?string $key = null): HttpResponse
    {
        return self::postJson(self::webhookUrl('add', [], $key), $body,
            ['Webhook-Signature' => base64_encode(hash_hmac('sha256', $body, self::MAUTIC_SECRET, true))]);
    }

    private static function sendMailerLite(string $body, string $key = self::MAILERLITE_KEY): HttpResponse
    {
        return self::postJson(self::webhookUrl('add', [], $key), $body, ['Signature' => hash_hmac('sha256', $body, self::MAILERLITE_SECRET)]);
    }

    /** The queue ids of an accepted background answer from $crm. @return list<int> */
    private function queued(HttpResponse $response, string $crm, int $events = 1): array
    {
        $this->assertSame(200, $response->status, $response->describe());
        $json = $response->json();
        $this->assertSame($crm, $json['crm'] ?? null, $response->describe());
        $this->assertCount($events, $json['queued'] ?? [], $response->describe());
        return array_map('intval', array_column($json['queued'], 'id'));
    }

    public function test_interleaved_webhooks_of_two_sources_link_each_user_to_its_own_crm(): void
    {
        $count = 20;
        $ids = [];
        // The same contact ids in both CRMs: the links, locks and queue rows must keep them apart.
        for ($i = 1; $i <= $count; $i++) {
            self::seedSubscriber((string) (5000 + $i), "ml$i@example.com", "Lite$i");
        }
        for ($i = 1; $i <= $count; $i++) {
            $ids['mautic'][] = $this->queued(self::sendMautic(self::mauticBody(5000 + $i, "m$i@example.com", "Mau$i")), 'mautic')[0];
            $ids['mailerlite'][] = $this->queued(self::sendMailerLite(self::mailerLiteBody((string) (5000 + $i), "ml$i@example.com")), 'mailerlite')[0];
        }
        $wait = QueueTable::waitUntilSettled(60, 10);
        $this->assertSame(0, $wait['unsettled'], json_encode(QueueTable::counts()));
        fwrite(STDERR, sprintf("\n[SourcesTest] %d interleaved webhooks drained in %.1f s (CLI worker runs: %d)\n", 2 * $count, $wait['seconds'], $wait['worker_runs']));

        foreach (['mautic' => 'm', 'mailerlite' => 'ml'] as $crm => $prefix) {
            $other = $crm === 'mautic' ? 'mailerlite' : 'mautic';
            $rows = QueueTable::rows($ids[$crm]);
            foreach ($rows as $row) {
                $this->assertSame([$crm, 'done', 'created'], [$row['crm'], $row['state'], $row['outcome']], json_encode($row));
            }
            for ($i = 1; $i <= $count; $i++) {
                $linked = WordPress::userIdsWithMeta("{$crm}_contact_id", (string) (5000 + $i));
                $this->assertCount(1, $linked, "$crm contact " . (5000 + $i));
                $user = WordPress::user($linked[0]);
                $this->assertSame("$prefix$i@example.com", $user['email'], "$crm contact " . (5000 + $i) . ' is linked to another CRM\'s user');
                $this->assertArrayNotHasKey("{$other}_contact_id", $user['meta'], 'a user linked to both CRMs');
                $this->assertArrayNotHasKey("{$other}_tags", $user['meta']);
                $this->assertSameTags(["from-$crm"], $user['meta']["{$crm}_tags"] ?? null);
                $this->assertSame($crm === 'mautic' ? "Mau$i" : "Lite$i", $user['first_name']);
            }
        }
        $this->assertSame(2 * $count + 1, WordPress::countUsers());
        // MailerLite's API was asked for MailerLite's subscribers only, once each; Mautic's never.
        $paths = array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], FakeCrm::requests());
        sort($paths);
        $expected = array_map(static fn (int $i): string => 'GET /mailerlite/api/subscribers/' . (5000 + $i), range(1, $count));
        sort($expected);
        $this->assertSame($expected, $paths);
    }

    public function test_one_sources_body_at_the_other_sources_key_is_never_applied(): void
    {
        self::seedSubscriber('6001', 'cross@example.com', 'Cross');
        $mailerLite = self::mailerLiteBody('6001', 'cross@example.com');
        $mautic = self::mauticBody(6001, 'cross@example.com', 'Cross');
        $before = WordPress::usersSnapshot();

        // A MailerLite body at Mautic's key: Mautic's signature is required and missing, or
        // (signed with Mautic's secret) Mautic's parser finds no Mautic event in it.
        $this->assertWebhookError(self::sendMailerLite($mailerLite, WordPress::accessKey()), 403, 'missing_signature');
        $this->assertWebhookError(self::sendMautic($mailerLite), 400, 'missing_contact_id');

        // A Mautic body at MailerLite's key: MailerLite's Signature is missing, or (signed
        // with MailerLite's secret) its preset finds no subscriber id: ignored, nothing queued.
        $this->assertWebhookError(self::sendMautic($mautic, self::MAILERLITE_KEY), 403, 'signature_rejected');
        $response = self::sendMailerLite($mautic);
        $this->assertSame(200, $response->status, $response->describe());
        $json = $response->json();
        $this->assertSame(['mailerlite', []], [$json['crm'] ?? null, $json['queued'] ?? null], $response->describe());
        $this->assertSame(['pointer_missing'], array_column($json['ignored'] ?? [], 'code'), $response->describe());
        $this->assertStringContainsString('mautic.lead_post_save_new', $json['ignored'][0]['message'], 'the key names that were there');
        $this->assertStringNotContainsString('cross@example.com', $response->body, 'a value of the body is echoed');

        $this->assertSame([], QueueTable::counts(), 'something was queued');
        $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), 'crossed bodies');
        $this->assertNoCrmRequests('nothing was accepted');
    }

    public function test_a_deleted_source_is_refused_at_once_and_its_queued_events_fail(): void
    {
        foreach ([1, 2, 3] as $i) {
            self::seedSubscriber((string) (7000 + $i), "gone$i@example.com", "Gone$i");
        }
        // Nobody drains while the events of both sources are queued.
        $lease = QueueTable::holdDrainLease();
        $mailerLite = $mautic = [];
        foreach ([1, 2, 3] as $i) {
            $mailerLite[] = $this->queued(self::sendMailerLite(self::mailerLiteBody((string) (7000 + $i), "gone$i@example.com")), 'mailerlite')[0];
            $mautic[] = $this->queued(self::sendMautic(self::mauticBody(7000 + $i, "kept$i@example.com", "Kept$i")), 'mautic')[0];
        }
        $this->assertSame(['pending' => 6], QueueTable::counts());

        // The owner deletes the MailerLite source.
        $settings = WordPress::configure(self::settings(false));
        $this->assertSame(['drip', 'activecampaign'], array_column($settings['sources'], 'mapping'));
        $logId = self::foldedLastLogId();
        $response = self::sendMailerLite(self::mailerLiteBody('7001', 'gone1@example.com'));
        $this->assertWebhookError($response, 403, 'invalid_access_key');
        $this->assertOneNewLogRow($logId, 403);
        $this->assertSame(['pending' => 6], QueueTable::counts(), 'the refused key stored something');

        $lease->close();
        [$exit, $out, $err] = QueueTable::runWorker('run');
        $this->assertSame(0, $exit, $out . $err);
        $this->assertSame(0, QueueTable::waitUntilSettled(30, 5)['unsettled']);
        foreach (QueueTable::rows($mailerLite) as $row) {
            $this->assertSame(['mailerlite', 'failed', 'event_from_other_crm'], [$row['crm'], $row['state'], $row['error_code']], json_encode($row));
        }
        foreach (QueueTable::rows($mautic) as $row) {
            $this->assertSame(['mautic', 'done', 'created'], [$row['crm'], $row['state'], $row['outcome']], json_encode($row));
        }
        foreach ([1, 2, 3] as $i) {
            $this->assertSame([], WordPress::userIdsWithMeta('mailerlite_contact_id', (string) (7000 + $i)));
            $this->assertCount(1, WordPress::userIdsWithMeta('mautic_contact_id', (string) (7000 + $i)));
        }
        $this->assertSame(4, WordPress::countUsers(), 'the admin and the three Mautic contacts');
        $this->assertNoCrmRequests('an event of a deleted source must not reach its CRM');
        // The webhooks page's failed events say why.
        $message = (string) WordPress::query('SELECT error_message FROM ' . QueueTable::table() . ' WHERE id = ' . $mailerLite[0])[0][0];
        $this->assertStringContainsString('mailerlite', $message);
    }

    /**
     * Bad input for a source, over the wire: each gets a 4xx with a stable code, or a 200
     * whose items are all `ignored`; never a 5xx, nothing stored, no user changed.
     */
    public function test_bad_input_for_a_source_gets_a_4xx_or_an_ignored_answer_and_changes_nothing(): void
    {
        $deep = static fn (int $levels): string => str_repeat('{"a":', $levels) . '1' . str_repeat('}', $levels);
        $subscribers = static fn (int $count, bool $readable): string => json_encode(['events' => array_map(
            static fn (int $i): array => ['id' => (string) (900000 + $i), 'email' => "bulk$i@example.com"] + ($readable ? ['updated_at' => '2026-12-01 10:00:00'] : []),
            range(1, $count))]);
        $form = ['Content-Type' => 'application/x-www-form-urlencoded'];
        $json = ['Content-Type' => 'application/json'];
        $mailerLite = static fn (string $body): array => [self::MAILERLITE_KEY, $body, $json + ['Signature' => hash_hmac('sha256', $body, self::MAILERLITE_SECRET)]];
        // case => [key, body, headers, status, code (a 4xx's) or the ignored items' codes (a 200's)]
        $cases = [
            'Drip: not JSON' => [self::DRIP_KEY, '{"event": "subscriber.applied_tag", ', $json, 400, 'invalid_json'],
            'Drip: a JSON string' => [self::DRIP_KEY, '"subscriber"', $json, 200, ['pointer_type']],
            'Drip: a list of numbers' => [self::DRIP_KEY, '[1,2,3]', $json, 200, ['pointer_missing']],
            'Drip: a pointer into a string' => [self::DRIP_KEY, '{"subscriber":"z1togz2hcjrkpp5treip"}', $json, 200, ['pointer_missing']],
            'Drip: a list where the id is' => [self::DRIP_KEY, '{"subscriber":{"id":["z1"],"email":"x@example.com"}}', $json, 200, ['pointer_type']],
            'Drip: a fraction as the id' => [self::DRIP_KEY, '{"subscriber":{"id":12.5,"email":"x@example.com"}}', $json, 200, ['pointer_type']],
            'Drip: a number where the email is' => [self::DRIP_KEY, '{"subscriber":{"id":"z1","email":5}}', $json, 200, ['pointer_type']],
            'Drip: 64 levels of nesting' => [self::DRIP_KEY, $deep(64), $json, 200, ['pointer_missing']],
            'Drip: 65 levels of nesting' => [self::DRIP_KEY, $deep(65), $json, 400, 'body_too_deep'],
            'Drip: a 2 MiB body' => [self::DRIP_KEY, json_encode(['subscriber' => ['id' => 'z1', 'email' => 'big@example.com', 'pad' => str_repeat('p', 2 * 1024 * 1024)]]), $json, 413, 'body_too_large'],
            'ActiveCampaign: JSON for a form' => [self::ACTIVECAMPAIGN_KEY, '{"contact":{"id":"5"}}', $form, 200, ['pointer_missing']],
            'ActiveCampaign: 65 levels of brackets' => [self::ACTIVECAMPAIGN_KEY, 'contact' . str_repeat('[a]', 65) . '=1', $form, 400, 'body_too_deep'],
            'ActiveCampaign: 10,001 form fields' => [self::ACTIVECAMPAIGN_KEY, implode('&', array_map(static fn (int $i): string => "f$i=1", range(1, 10001))), $form, 413, 'too_many_items'],
            'MailerLite: 10,000 subscribers (over max_events)' => [...$mailerLite($subscribers(10000, true)), 413, 'too_many_events'],
            'MailerLite: 10,001 subscribers' => [...$mailerLite($subscribers(10001, true)), 413, 'too_many_items'],
            // The first 20 are listed, the other 9,980 counted in one entry.
            'MailerLite: 10,000 items it cannot read' => [...$mailerLite($subscribers(10000, false)), 200, [...array_fill(0, 20, 'pointer_missing'), 'ignored_not_listed']],
        ];
        $before = WordPress::usersSnapshot();
        $logId = self::foldedLastLogId();
        $http = new Http();
        foreach ($cases as $case => [$key, $body, $headers, $status, $expected]) {
            $response = $http->request('POST', self::webhookUrl('add', [], $key), $body, $headers);
            $this->assertSame($status, $response->status, "$case: " . $response->describe());
            if (is_string($expected)) {
                $this->assertWebhookError($response, $status, $expected);
            } else {
                $answer = $response->json();
                $this->assertTrue($answer['success'] ?? null, "$case: " . $response->describe());
                $this->assertSame([], $answer['queued'] ?? null, "$case: " . $response->describe());
                $this->assertSame($expected, array_column($answer['ignored'] ?? [], 'code'), "$case: " . $response->describe());
                $this->assertLessThan(16384, strlen($response->body), "$case: the answer lists what was ignored at length");
            }
            $this->assertSame([], QueueTable::counts(), "$case: something was queued");
        }
        $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), 'bad input');
        $this->assertNoCrmRequests('nothing was accepted');
        // The refused ones are recorded as the source's, not as the first source's (mautic).
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        $crms = [];
        foreach (WordPress::logRows(40) as $row) {
            if ((int) $row['id'] > $logId) {
                $crms[$row['outcome']][$row['crm']] = true;
            }
        }
        foreach (['invalid_json' => ['drip'], 'body_too_deep' => ['activecampaign', 'drip'], 'body_too_large' => ['drip'],
            'too_many_items' => ['activecampaign', 'mailerlite'], 'too_many_events' => ['mailerlite']] as $code => $sources) {
            $logged = array_keys($crms[$code] ?? []);
            sort($logged);
            $this->assertSame($sources, $logged, "the records of $code");
        }
    }

    /** Runs last: no answer this class received, and no log row, holds a source's secret. */
    public function test_no_answer_or_log_record_holds_a_sources_secret(): void
    {
        $secrets = [self::MAUTIC_SECRET, self::MAILERLITE_SECRET, self::MAILERLITE_KEY, self::DRIP_KEY, self::ACTIVECAMPAIGN_KEY, 'mailerlite-token', WordPress::accessKey()];
        $this->assertNotEmpty(Http::$webhookResponses);
        foreach (Http::$webhookResponses as $response) {
            foreach ($secrets as $secret) {
                $this->assertStringNotContainsString($secret, $response->body, 'an answer holds a secret: ' . Http::redact($response->url));
            }
        }
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        $log = json_encode(WordPress::logRows(500));
        foreach ($secrets as $secret) {
            $this->assertStringNotContainsString($secret, $log, 'the log holds a secret');
        }
    }
}
