<?php
// Issue 16's PHP API through the real extension: wpf_bridge_parse_webhook() with a preset slug
// or a mapping array, wpf_bridge_verify_signature() with a preset slug, wpf_bridge_presets().
use PHPUnit\Framework\TestCase;

final class PresetsTest extends TestCase
{
    private const MAILERLITE_SECRET = 'ybmcD7PQ9R';

    private static function form(array $query, string $body): array
    {
        return Fixtures::request($query, $body, ['Content-Type' => 'application/x-www-form-urlencoded']);
    }

    public function testPresetsAreListedWithTheirMappingsAndMetaKeys(): void
    {
        $presets = wpf_bridge_presets();
        $this->assertSame(['activecampaign', 'mailerlite', 'drip', 'convertkit', 'highlevel'], array_keys($presets));
        $this->assertSame('ActiveCampaign', $presets['activecampaign']['name']);
        $this->assertSame('activecampaign_contact_id', $presets['activecampaign']['contact_id_meta_key']);
        $this->assertSame('activecampaign_tags', $presets['activecampaign']['tags_meta_key']);
        $this->assertSame('Signature', $presets['mailerlite']['signature_header']);
        $this->assertNull($presets['drip']['signature_header']);
        $this->assertTrue($presets['convertkit']['complete']);
        $this->assertFalse($presets['mailerlite']['complete']);
        $this->assertSame('form', $presets['activecampaign']['mapping']['format']);
        foreach ($presets as $slug => $preset) {
            $this->assertSame($slug, $preset['mapping']['slug']);
            // ActiveCampaign and MailerLite have API clients in the extension; the others not.
            $this->assertSame(in_array($slug, ['activecampaign', 'mailerlite'], true), $preset['api_client'], $slug);
            // The listed mapping is one wpf_bridge_parse_webhook() accepts as it is.
            $mapping = $preset['mapping'];
            unset($mapping['signature']);
            $parsed = wpf_bridge_parse_webhook($mapping, Fixtures::request(['wpf_action' => 'test']));
            $this->assertSame($slug, $parsed['crm']);
        }
    }

    public function testActiveCampaignFormBodyBySlug(): void
    {
        $parsed = wpf_bridge_parse_webhook('activecampaign', self::form(['wpf_action' => 'update'], Fixtures::read('activecampaign/01_contact_update.form.txt')));
        $this->assertSame(['action', 'crm', 'options', 'events', 'ignored', 'signed'], array_keys($parsed));
        $this->assertSame('activecampaign', $parsed['crm']);
        $event = $parsed['events'][0];
        $this->assertSame(['type', 'contact_id', 'email', 'tags', 'fields', 'deleted', 'timestamp'], array_keys($event));
        $this->assertSame('1234', $event['contact_id']);
        $this->assertSame('test.user@example.com', $event['email']);
        $this->assertSame(['month', 'free_forever', 'not_active_0912', 'TIER1', 'app_notif_reminder_sent', 'free-day-fix-1'], $event['tags']);
        $this->assertSame(['first_name' => 'Test', 'last_name' => 'User', 'phone' => '+15555555555'], $event['fields']);
        $this->assertSame([], $parsed['ignored']);
        $this->assertFalse($parsed['signed']);
    }

    public function testEachPresetReadsItsSamples(): void
    {
        $cases = [
            ['mailerlite', 'mailerlite/02_subscribers_updated_batch_of_3.json', ['31986843064993537', '31986843064993538', '31986843064993539']],
            ['mailerlite', 'mailerlite/04_classic_subscriber_create.json', ['2300951083']],
            ['drip', 'drip/01_subscriber_applied_tag.json', ['z1togz2hcjrkpp5treip']],
            ['convertkit', 'convertkit/01_subscriber_event.json', ['1']],
            ['highlevel', 'highlevel/01_workflow_webhook_contact_MODELLED.json', ['CWBf1PR9LvvBkcYqiXlc']],
        ];
        foreach ($cases as [$slug, $file, $ids]) {
            $parsed = wpf_bridge_parse_webhook($slug, Fixtures::request(['wpf_action' => 'update'], Fixtures::read($file)));
            $this->assertSame($ids, array_column($parsed['events'], 'contact_id'), $file);
            foreach ($parsed['events'] as $event) {
                $this->assertIsString($event['contact_id'], $file);
            }
        }
        $drip = wpf_bridge_parse_webhook('drip', Fixtures::request(['wpf_action' => 'update'], Fixtures::read('drip/01_subscriber_applied_tag.json')));
        $this->assertSame(['Customer', 'SEO'], $drip['events'][0]['tags']);
        $this->assertSame('2013-06-21T10:31:58Z', $drip['events'][0]['timestamp']);
        // Kit sends no tags: its fields are applied as sent, the user's tags stay as they are.
        $kit = wpf_bridge_parse_webhook('convertkit', Fixtures::request(['wpf_action' => 'update'], Fixtures::read('convertkit/01_subscriber_event.json')));
        $this->assertSame(['first_name' => 'John'], $kit['events'][0]['fields']);
        $this->assertNull($kit['events'][0]['tags']);
    }

    public function testItemsNotAppliedAreIgnoredWithTheirReason(): void
    {
        $parsed = wpf_bridge_parse_webhook('drip', Fixtures::request(['wpf_action' => 'update'], Fixtures::read('drip/03_subscriber_opened_email.json')));
        $this->assertSame([], $parsed['events']);
        $this->assertSame('condition_not_met', $parsed['ignored'][0]['code']);
        $purchase = wpf_bridge_parse_webhook('convertkit', Fixtures::request(['wpf_action' => 'update'], Fixtures::read('convertkit/02_purchase_event.json')));
        $ignored = $purchase['ignored'][0];
        $this->assertSame(['item', 'code', 'message'], array_keys($ignored));
        $this->assertNull($ignored['item']);
        $this->assertSame('pointer_missing', $ignored['code']);
        $this->assertStringContainsString('/subscriber/id', $ignored['message']);
        $this->assertStringContainsString('"transaction_id"', $ignored['message']);
        $this->assertStringNotContainsString('crashoverride', $ignored['message']);
    }

    public function testMailerLiteSignatureBySlug(): void
    {
        $vectors = 0;
        foreach (file(Fixtures::path('mailerlite/signatures.txt'), FILE_IGNORE_NEW_LINES) as $line) {
            if ($line === '' || $line[0] === '#') {
                continue;
            }
            [$file, $signature] = explode("\t", $line);
            $body = Fixtures::read("mailerlite/$file");
            // The documented PHP example computes the same value.
            $this->assertSame(hash_hmac('sha256', $body, self::MAILERLITE_SECRET), $signature);
            $this->assertTrue(wpf_bridge_verify_signature('mailerlite', $body, $signature, self::MAILERLITE_SECRET));
            $this->assertTrue(wpf_bridge_verify_signature('MailerLite', $body, strtoupper($signature), self::MAILERLITE_SECRET));
            $this->assertFalse(wpf_bridge_verify_signature('mailerlite', $body . ' ', $signature, self::MAILERLITE_SECRET));
            $this->assertFalse(wpf_bridge_verify_signature('mailerlite', $body, $signature, 'other'));
            $this->assertFalse(wpf_bridge_verify_signature('mailerlite', $body, $signature, ''));
            $this->assertFalse(wpf_bridge_verify_signature('mailerlite', json_encode(json_decode($body), JSON_PRETTY_PRINT), $signature, self::MAILERLITE_SECRET));
            // Drip signs nothing.
            $this->assertFalse(wpf_bridge_verify_signature('drip', $body, $signature, self::MAILERLITE_SECRET));
            $vectors++;
        }
        $this->assertSame(3, $vectors);
    }

    public function testSignedMappingArrayVerifiesTheRawBody(): void
    {
        $mapping = wpf_bridge_presets()['mailerlite']['mapping'];
        $mapping['signature']['secret'] = self::MAILERLITE_SECRET;
        $body = Fixtures::read('mailerlite/01_subscriber_created_single.json');
        $signature = hash_hmac('sha256', $body, self::MAILERLITE_SECRET);
        $parsed = wpf_bridge_parse_webhook($mapping, Fixtures::request(['wpf_action' => 'update', 'contact_id' => '9'], $body, ['Signature' => $signature]));
        $this->assertTrue($parsed['signed']);
        $this->assertSame('31986843064993537', $parsed['events'][0]['contact_id']);
        try {
            wpf_bridge_parse_webhook($mapping, Fixtures::request(['wpf_action' => 'update'], $body, ['Signature' => str_repeat('0', 64)]));
            $this->fail('accepted');
        } catch (WpfBridge\AuthenticationException $e) {
            $this->assertSame('signature_rejected', $e->errorCode);
            $this->assertSame(1104, $e->getCode());
            $this->assertStringNotContainsString(self::MAILERLITE_SECRET, $e->getMessage());
        }
    }

    public function testACustomMappingForAMadeUpCrm(): void
    {
        $mapping = [
            'slug' => 'acme',
            'format' => 'json',
            'items' => ['/people'],
            'when' => [['pointer' => '/status', 'in' => ['active']]],
            'contact_id' => ['pointers' => ['/ref'], 'type' => 'integer'],
            'email' => '/mail',
            'tags' => ['pointer' => '/labels', 'pluck' => 'title'],
            'fields' => ['first_name' => '/given', 'acme_score' => ['pointer' => '/score', 'optional' => true]],
            'event_time' => '/changed',
        ];
        $body = json_encode(['people' => [
            ['ref' => '007', 'status' => 'active', 'mail' => 'Bond@Example.org', 'labels' => [['title' => 'agent']], 'given' => 'James', 'score' => 7, 'changed' => 1495551003],
            ['ref' => 8, 'status' => 'gone', 'mail' => 'x@example.org', 'labels' => [], 'given' => 'X'],
        ]]);
        $parsed = wpf_bridge_parse_webhook($mapping, Fixtures::request(['wpf_action' => 'update'], $body));
        $this->assertSame('acme', $parsed['crm']);
        $this->assertCount(1, $parsed['events']);
        $event = $parsed['events'][0];
        $this->assertSame('7', $event['contact_id']);
        $this->assertSame('acme', $event['type']);
        $this->assertSame(['agent'], $event['tags']);
        $this->assertSame(['acme_score' => 7, 'first_name' => 'James'], $event['fields']);
        $this->assertSame('2017-05-23T14:50:03Z', $event['timestamp']);
        $this->assertSame(2, $parsed['ignored'][0]['item']);
        $this->assertSame('condition_not_met', $parsed['ignored'][0]['code']);
        // PHP's empty array stands for "no fields" (and "no conditions").
        $bare = ['slug' => 'acme', 'contact_id' => ['pointers' => ['/id']], 'complete' => false, 'fields' => [], 'when' => []];
        $this->assertSame('5', wpf_bridge_parse_webhook($bare, Fixtures::request(['wpf_action' => 'add'], '{"id": 5}'))['events'][0]['contact_id']);
    }

    /** @dataProvider badMappings */
    #[\PHPUnit\Framework\Attributes\DataProvider('badMappings')]
    public function testABadMappingIsRefusedNamingTheField(array $mapping, string $field): void
    {
        try {
            wpf_bridge_parse_webhook($mapping, Fixtures::request(['wpf_action' => 'update'], '{"id": 1}'));
            $this->fail('accepted');
        } catch (WpfBridge\ConfigurationException $e) {
            $this->assertSame('invalid_mapping', $e->errorCode);
            $this->assertSame(1203, $e->getCode());
            $this->assertStringContainsString("at $field:", $e->getMessage());
            $this->assertStringNotContainsString('s3cret-value', $e->getMessage());
        }
    }

    public static function badMappings(): array
    {
        $ok = ['slug' => 'acme', 'contact_id' => ['pointers' => ['/id']], 'complete' => false];
        return [
            'unknown key' => [$ok + ['contactid' => '/id'], '/contactid'],
            'unknown nested key' => [['contact_id' => ['pointers' => ['/id'], 'kind' => 'string']] + $ok, '/contact_id/kind'],
            'not a pointer' => [['contact_id' => ['pointers' => ['contact.id']]] + $ok, '/contact_id/pointers/0'],
            'bad escape' => [$ok + ['email' => '/a~2b'], '/email'],
            'signature without secret' => [$ok + ['signature' => ['header' => 'Signature']], '/signature/secret'],
            'preset secret key misspelt' => [$ok + ['signature' => ['header' => 'Signature', 'secrets' => 's3cret-value']], '/signature/secrets'],
            'when without values' => [$ok + ['when' => [['pointer' => '/type', 'in' => []]]], '/when/0/in'],
            'protected meta key' => [$ok + ['fields' => ['wp_capabilities' => '/role']], '/fields/wp_capabilities'],
            'no slug' => [['contact_id' => ['pointers' => ['/id']]], '/'],
        ];
    }

    /** @dataProvider badWire */
    #[\PHPUnit\Framework\Attributes\DataProvider('badWire')]
    public function testBadWireInputIsA4xxCode(string $crm, string $body, string $contentType, string $code): void
    {
        try {
            wpf_bridge_parse_webhook($crm, Fixtures::request(['wpf_action' => 'update'], $body, ['Content-Type' => $contentType]));
            $this->fail('accepted');
        } catch (WpfBridge\InvalidPayloadException $e) {
            $this->assertSame($code, $e->errorCode);
        }
    }

    public static function badWire(): array
    {
        return [
            'form body for a json preset' => ['drip', 'event=subscriber.applied_tag', 'application/x-www-form-urlencoded', 'invalid_json'],
            '65 levels of json' => ['drip', str_repeat('[', 65) . str_repeat(']', 65), 'application/json', 'body_too_deep'],
            '65 levels of form' => ['activecampaign', 'contact' . str_repeat('[a]', 65) . '=1', 'application/x-www-form-urlencoded', 'body_too_deep'],
            '10001 items' => ['mailerlite', json_encode(['events' => array_fill(0, 10001, ['id' => '1'])]), 'application/json', 'too_many_items'],
            '2 MiB' => ['highlevel', str_repeat(' ', 2 * 1024 * 1024), 'application/json', 'body_too_large'],
        ];
    }

    public function testAJsonBodyForAFormPresetIsReadAsAFormAndIgnored(): void
    {
        $parsed = wpf_bridge_parse_webhook('activecampaign', Fixtures::request(['wpf_action' => 'update'], '{"contact": {"id": 1}}'));
        $this->assertSame([], $parsed['events']);
        $this->assertSame('pointer_missing', $parsed['ignored'][0]['code']);
        $this->assertStringContainsString('/contact/id', $parsed['ignored'][0]['message']);
    }

    public function testAnUnknownSlugNamesThePresets(): void
    {
        try {
            wpf_bridge_parse_webhook('hubspot', Fixtures::request(['wpf_action' => 'update']));
            $this->fail('accepted');
        } catch (WpfBridge\InvalidPayloadException $e) {
            $this->assertSame('unknown_crm', $e->errorCode);
            $this->assertStringContainsString('"activecampaign"', $e->getMessage());
        }
        $this->expectException(WpfBridge\ConfigurationException::class);
        wpf_bridge_parse_webhook(42, Fixtures::request(['wpf_action' => 'update']));
    }
}
