<?php
// Webhooks the site must refuse, each answered with its error and leaving the users and
// usermeta tables exactly as they were; and roles a webhook may not give, refused without
// failing the webhook (the user gets the default role, the answer says role_refused).
final class RefusalTest extends E2eTestCase
{
    /** The extension's default body limit (settings.rs DEFAULT_MAX_BODY_BYTES): 1 MiB. */
    private const BODY_LIMIT = 1024 * 1024;

    public static function setUpBeforeClass(): void
    {
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'return_password' => false,
            'return_password_field' => '',
        ]));
        WordPress::deleteAllUsersButAdmin();
        // Users the refused webhooks could have touched: one linked to contact 52, one not.
        WordPress::createUser('john', 'john@doe.name', ['first_name' => 'Johnny'], ['mautic_contact_id' => '52', 'mautic_tags' => ['old']]);
        WordPress::createUser('contact1', 'contact1@email.com', [], []);
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(52, 'john@doe.name', 'John', 'Doe', ['customer']));
    }

    /**
     * Sends the request, asserts its error, and that neither users nor usermeta changed and
     * that the refusal was logged.
     */
    private function assertRefused(string $what, callable $send, int $status, string $code): HttpResponse
    {
        $before = WordPress::usersSnapshot();
        $this->assertNotEmpty(preg_grep('/^meta .*\| mautic_contact_id \| 52$/', $before), 'the snapshot misses the linked user');
        $logId = WordPress::lastLogId();
        $response = $send();
        $this->assertWebhookError($response, $status, $code);
        $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), $what);
        $row = $this->assertOneNewLogRow($logId, $status);
        $this->assertSame($code, $row['outcome'], "$what: log entry");
        $this->assertNoCrmRequests("$what was refused");
        return $response;
    }

    public function test_a_wrong_access_key_is_refused_with_403(): void
    {
        $body = Fixtures::read('mautic/01_contact_updated_single.wire.json');
        $key = WordPress::accessKey();
        $this->assertRefused('a wrong key', fn () => self::postJson(self::webhookUrl('update', [], strrev($key)), $body), 403, 'invalid_access_key');
        $this->assertRefused('the key with one character more', fn () => self::postJson(self::webhookUrl('update', [], $key . 'A'), $body), 403, 'invalid_access_key');
        $this->assertRefused('no key', fn () => self::postJson(Env::url() . '/?wpf_action=add&contact_id=52', ''), 403, 'invalid_access_key');
        $this->assertRefused('a wrong key on add', fn () => self::postJson(self::webhookUrl('add', ['contact_id' => '52', 'role' => 'customer'], 'wrong-key-1234'), ''), 403, 'invalid_access_key');
    }

    public function test_a_malformed_body_is_refused_with_400(): void
    {
        $body = substr(Fixtures::read('mautic/01_contact_updated_single.wire.json'), 0, 500);
        $this->assertRefused('a truncated JSON body', fn () => self::postJson(self::webhookUrl('update'), $body), 400, 'invalid_json');
        $this->assertRefused('JSON of the wrong shape', fn () => self::postJson(self::webhookUrl('update'), '{"mautic.lead_post_save_update": "not a list"}'), 400, 'invalid_payload');
    }

    public function test_a_body_over_1_mib_is_refused_before_it_is_parsed(): void
    {
        // A Mautic update for contact 52 padded past the limit: were the size not checked,
        // it would rename john.
        $event = json_decode(Fixtures::read('mautic/01_contact_updated_single.json'), true);
        $event['mautic.lead_post_save_update'][0]['contact']['fields']['core']['firstname']['value'] = 'Oversized';
        $event['padding'] = str_repeat('x', self::BODY_LIMIT);
        $body = json_encode($event, JSON_UNESCAPED_SLASHES);
        $this->assertGreaterThan(self::BODY_LIMIT, strlen($body));

        $before = WordPress::usersSnapshot();
        $logId = WordPress::lastLogId();
        $response = self::postJson(self::webhookUrl('update'), $body);
        $this->assertSame(413, $response->status, $response->describe());
        $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), 'an oversized body');
        $this->assertNoCrmRequests('an oversized body was refused');
        if (!str_starts_with((string) $response->header('content-type'), 'application/json')) {
            // nginx's client_max_body_size answered before WordPress: a valid refusal too, but
            // then the extension's own limit went untested. tests/e2e/env sets it to 16m.
            $this->assertStringContainsString('413 Request Entity Too Large', $response->body, $response->describe());
            $this->markTestIncomplete('nginx refused the body itself (client_max_body_size below 1 MiB?): the extension\'s limit was not reached');
        }
        $this->assertWebhookError($response, 413, 'body_too_large');
        $this->assertStringNotContainsString('xxxxxxxx', $response->body, 'the answer echoes the body');
        $this->assertSame('body_too_large', $this->assertOneNewLogRow($logId, 413)['outcome']);
    }

    public function test_a_body_just_under_the_limit_is_accepted(): void
    {
        // The control for the test above: the same update, padded to just under 1 MiB, is
        // applied, so the refusal there is about size and nothing else.
        $event = json_decode(Fixtures::read('mautic/01_contact_updated_single.json'), true);
        $event['mautic.lead_post_save_update'][0]['contact']['fields']['core']['firstname']['value'] = 'Padded';
        $event['padding'] = '';
        $room = self::BODY_LIMIT - strlen(json_encode($event, JSON_UNESCAPED_SLASHES));
        $event['padding'] = str_repeat('x', $room);
        $body = json_encode($event, JSON_UNESCAPED_SLASHES);
        $this->assertSame(self::BODY_LIMIT, strlen($body));

        $response = self::postJson(self::webhookUrl('update'), $body);

        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame('Padded', WordPress::user($results[0]['user_id'])['first_name']);
    }

    /** @return array<string, array{0: string, 1: int, 2: string}> */
    public function privilegedRoles(): array
    {
        return [
            'administrator' => ['administrator', 400, 'administrator_role'],
            'editor (has unfiltered_html)' => ['editor', 401, 'privileged_role'],
        ];
    }

    /** @dataProvider privilegedRoles */
    public function test_a_privileged_role_is_refused_and_the_default_role_given(string $role, int $contact, string $reason): void
    {
        $email = "role-$role@example.com";
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, $email, 'Role', ucfirst($role), []));
        $before = WordPress::usersSnapshot();
        $users = WordPress::countUsers();

        $response = self::postJson(self::webhookUrl('add', ['contact_id' => (string) $contact, 'role' => $role]), '');

        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
        $result = $results[0];
        $this->assertSame('created', $result['outcome'], $response->describe());
        $this->assertSame($reason, $result['role_refused'] ?? null, $response->describe());
        $this->assertSame('subscriber', $result['role'] ?? null, $response->describe());

        $this->assertSame($users + 1, WordPress::countUsers());
        $user = WordPress::user($result['user_id']);
        $this->assertSame($email, $user['email']);
        $this->assertSame(['subscriber'], $user['roles'], "role=$role must not be given");
        $capabilities = $user['meta'][Env::get('WPF_E2E_DB_PREFIX') . 'capabilities'] ?? null;
        $this->assertSame(['subscriber' => true], $capabilities);
        // Nothing else changed: every row from before is still there, unchanged.
        $this->assertSame([], array_values(array_diff($before, WordPress::usersSnapshot())), 'existing users changed');
    }
}
