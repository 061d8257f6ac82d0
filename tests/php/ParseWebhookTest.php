<?php
// wpf_bridge_parse_webhook() from PHP: every payload sample, the parameter rules, and every
// error path with its exception class and stable code.
use PHPUnit\Framework\TestCase;

final class ParseWebhookTest extends TestCase
{
    private function parse(string $crm, array $query, string $body = '', array $headers = []): array
    {
        return wpf_bridge_parse_webhook($crm, Fixtures::request($query, $body, $headers));
    }

    public function testMauticContactUpdated(): void
    {
        $parsed = $this->parse('mautic', ['wpf_action' => 'update'], Fixtures::read('mautic/01_contact_updated_single.wire.json'));
        $this->assertSame(['action', 'crm', 'options', 'events'], array_keys($parsed));
        $this->assertSame('update', $parsed['action']);
        $this->assertSame('mautic', $parsed['crm']);
        $this->assertSame(['role' => null, 'send_notification' => false, 'async' => null], $parsed['options']);
        $this->assertCount(1, $parsed['events']);
        $event = $parsed['events'][0];
        $this->assertSame('mautic.lead_post_save_update', $event['type']);
        $this->assertSame('52', $event['contact_id']);
        $this->assertSame('john@doe.name', $event['email']);
        $this->assertSame('John', $event['fields']['firstname']);
        $this->assertSame('Doe', $event['fields']['lastname']);
        $this->assertIsArray($event['tags']);
        $this->assertFalse($event['deleted']);
        $this->assertSame('2017-06-19T09:32:24+00:00', $event['timestamp']);
    }

    public function testMauticBatchOfThreeInOrder(): void
    {
        $parsed = $this->parse('mautic', ['wpf_action' => 'add'], Fixtures::read('mautic/02_contact_identified_batch_of_3.wire.json'));
        $this->assertSame(['101', '102', '103'], array_column($parsed['events'], 'contact_id'));
        $this->assertSame(['contact1@email.com', 'contact2@email.com', 'contact3@email.com'], array_column($parsed['events'], 'email'));
    }

    public function testMauticDeletionAndOtherEvents(): void
    {
        $deleted = $this->parse('mautic', ['wpf_action' => 'update'], Fixtures::read('mautic/05_contact_deleted.json'))['events'][0];
        $this->assertTrue($deleted['deleted']);
        $this->assertNotSame('', $deleted['contact_id']);
        // The test button sends one update and one deletion, plus a top-level timestamp.
        $button = $this->parse('mautic', ['wpf_action' => 'update'], Fixtures::read('mautic/06_test_button_payload_with_toplevel_timestamp.json'))['events'];
        $this->assertSame([false, true], array_column($button, 'deleted'));
        foreach (['03_points_changed.json', '04_channel_subscription_changed.json'] as $file) {
            $events = $this->parse('mautic', ['wpf_action' => 'update'], Fixtures::read("mautic/$file"))['events'];
            $this->assertCount(1, $events, $file);
            $this->assertMatchesRegularExpression('/^\d+$/', $events[0]['contact_id'], $file);
            $this->assertFalse($events[0]['deleted'], $file);
        }
    }

    public function testMauticLegacyLeadKeyAndEmptyFields(): void
    {
        $body = json_decode(Fixtures::read('mautic/01_contact_updated_single.json'), true);
        $item = &$body['mautic.lead_post_save_update'][0];
        $item['lead'] = $item['contact'];
        unset($item['contact']);
        $item['lead']['fields'] = [];
        $event = $this->parse('mautic', ['wpf_action' => 'update'], json_encode($body))['events'][0];
        $this->assertSame('52', $event['contact_id']);
        $this->assertSame([], $event['fields']);
    }

    public function testNonContactEventsAreIgnored(): void
    {
        $body = json_encode(['mautic.form_on_submit' => [['submission' => ['id' => 1]]], 'mautic.email_on_open' => [['stat' => []]]]);
        $parsed = $this->parse('mautic', ['wpf_action' => 'test'], $body);
        $this->assertSame([], $parsed['events']);
    }

    public function testUserComApiCallBody(): void
    {
        $event = $this->parse('userengage', ['wpf_action' => 'add'], Fixtures::read('userengage/01_api_call_body_confirmed_keys.json'))['events'][0];
        $this->assertSame('7', $event['contact_id']);
        $this->assertSame('johndoe@example.org', $event['email']);
        $this->assertSame('John', $event['fields']['first_name']);
        $this->assertSame('Doe', $event['fields']['last_name']);
        $this->assertNull($event['tags'], 'the documented body has no tags');
        $extended = $this->parse('userengage', ['wpf_action' => 'add'], Fixtures::read('userengage/02_api_call_body_extended_ASSUMED.json'))['events'][0];
        $this->assertSame(['Add User to WP'], $extended['tags']);
        $this->assertSame('attribute value', $extended['fields']['my_string_attr']);
    }

    public function testParametersActionsOptionsAndPrecedence(): void
    {
        $parsed = $this->parse('mautic', ['wpf_action' => 'ADD_USER', 'contact_id' => '9', 'email' => 'a@b.co', 'role' => ' customer ', 'send_notification' => 'Yes', 'async' => 'false']);
        $this->assertSame('add', $parsed['action']);
        $this->assertSame(['role' => 'customer', 'send_notification' => true, 'async' => false], $parsed['options']);
        $this->assertSame('9', $parsed['events'][0]['contact_id']);
        // The email parameter is never read: only the contact's own email counts (issue 8).
        $this->assertNull($parsed['events'][0]['email']);
        $this->assertSame('update', $this->parse('mautic', ['wpf_action' => 'update_user', 'contact_id' => '1'])['action']);
        // contact_id from the URL wins over the payload's.
        $won = $this->parse('mautic', ['wpf_action' => 'update', 'contact_id' => '77'], Fixtures::read('mautic/01_contact_updated_single.wire.json'));
        $this->assertSame('77', $won['events'][0]['contact_id']);
        // POST parameters work too, and header names are case-insensitive.
        $request = ['post' => ['wpf_action' => 'update_tags', 'contact_id' => '3'], 'headers' => ['CONTENT-TYPE' => 'application/x-www-form-urlencoded'], 'body' => 'wpf_action=update_tags&contact_id=3'];
        $this->assertSame('update_tags', wpf_bridge_parse_webhook('mautic', $request)['action']);
        // test needs no contact.
        $this->assertSame([], $this->parse('mautic', ['wpf_action' => 'test'])['events']);
    }

    /** @dataProvider badRequests */
    #[\PHPUnit\Framework\Attributes\DataProvider('badRequests')]
    public function testBadInputThrowsACleanExceptionWithAStableCode(string $crm, array $request, string $class, string $code): void
    {
        try {
            wpf_bridge_parse_webhook($crm, $request);
            $this->fail('accepted');
        } catch (WpfBridge\Exception $e) {
            $this->assertInstanceOf($class, $e);
            $this->assertSame($code, $e->errorCode);
            $this->assertGreaterThan(1000, $e->getCode());
            $this->assertNotSame('', $e->getMessage());
            $this->assertStringNotContainsString('secret-value', $e->getMessage());
        }
    }

    public static function badRequests(): array
    {
        $invalid = WpfBridge\InvalidPayloadException::class;
        return [
            'unknown crm' => ['hubspot', Fixtures::request(['wpf_action' => 'update', 'contact_id' => '1']), $invalid, 'unknown_crm'],
            'no action' => ['mautic', Fixtures::request(['contact_id' => '1']), $invalid, 'missing_action'],
            'empty action' => ['mautic', Fixtures::request(['wpf_action' => '', 'contact_id' => '1']), $invalid, 'missing_action'],
            'unknown action' => ['mautic', Fixtures::request(['wpf_action' => 'delete_everything', 'contact_id' => '1']), $invalid, 'unknown_action'],
            'bad flag' => ['mautic', Fixtures::request(['wpf_action' => 'add', 'contact_id' => '1', 'send_notification' => 'maybe']), $invalid, 'invalid_flag'],
            'not json' => ['mautic', Fixtures::request(['wpf_action' => 'update'], '{"mautic.lead_post_save_update": [secret-value'), $invalid, 'invalid_json'],
            'no contact id' => ['mautic', Fixtures::request(['wpf_action' => 'update']), $invalid, 'missing_contact_id'],
            'userengage without user' => ['userengage', Fixtures::request(['wpf_action' => 'add'], '{"path": 6}'), $invalid, 'missing_contact_id'],
            'too large' => ['mautic', Fixtures::request(['wpf_action' => 'update'], str_repeat(' ', 1024 * 1024 + 1)), $invalid, 'body_too_large'],
        ];
    }

    public function testRequestArrayOfTheWrongShapeThrows(): void
    {
        $this->expectException(WpfBridge\ConfigurationException::class);
        wpf_bridge_parse_webhook('mautic', ['query' => 'wpf_action=update']);
    }
}
