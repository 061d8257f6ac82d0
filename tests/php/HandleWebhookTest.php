<?php
// wpf_bridge_handle_webhook() from PHP with a PHP site object, and the CRM functions against
// the fake CRM on 127.0.0.1: the whole flow across the PHP/Rust boundary.
use PHPUnit\Framework\TestCase;

final class HandleWebhookTest extends TestCase
{
    private const KEY = 'php-suite-access-key-0001';
    private static FakeCrmProcess $crm;

    public static function setUpBeforeClass(): void
    {
        self::$crm = FakeCrmProcess::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$crm->stop();
    }

    protected function setUp(): void
    {
        self::$crm->control('POST', 'reset');
    }

    private function settings(array $extra = []): array
    {
        return $extra + [
            'access_key' => self::KEY,
            'crm' => 'mautic',
            'mautic_url' => self::$crm->mauticUrl(),
            'mautic_username' => 'mautic-user',
            'mautic_password' => 'mautic-password',
            'userengage_url' => self::$crm->userengageUrl(),
            'userengage_api_key' => 'userengage-key',
            'return_password' => true,
            'return_password_field' => 'wp_password',
            'crm_timeout' => 2,
        ];
    }

    private function handle(ArraySite $site, array $query, string $body = '', array $settings = [], array $headers = []): array
    {
        $response = wpf_bridge_handle_webhook(Fixtures::request($query, $body, $headers), $this->settings($settings), $site);
        // `retry_after` only when the error says when to try again (a CRM's Retry-After).
        $this->assertSame(['status', 'body', 'log'], array_values(array_diff(array_keys($response), ['retry_after'])));
        $this->assertTrue(!isset($response['retry_after']) || ($response['status'] >= 500 && is_int($response['retry_after'])), json_encode($response));
        return $response;
    }

    public function testMauticUpdateFromThePayload(): void
    {
        $site = new ArraySite();
        $id = $site->addUser('john', 'john@doe.name', 'subscriber', ['mautic_contact_id' => '52']);
        $r = $this->handle($site, ['wpf_action' => 'update', 'access_key' => self::KEY], Fixtures::read('mautic/01_contact_updated_single.wire.json'));
        $this->assertSame(200, $r['status']);
        $this->assertSame('updated', $r['body']['results'][0]['outcome']);
        $this->assertSame($id, $r['body']['results'][0]['user_id']);
        // The log record is the extension's too: the plugin only stores it.
        $this->assertSame(['update', 'mautic', ['52'], [$id], 'updated', false], [$r['log']['action'], $r['log']['crm'], $r['log']['contact_ids'], $r['log']['user_ids'], $r['log']['outcome'], $r['log']['refused']]);
        $this->assertStringStartsWith('info: update: contact 52 updated user ' . $id, $r['log']['details'][0]);
        $this->assertSame('John', $site->users[$id]['core']['first_name']);
        $this->assertIsArray($site->users[$id]['meta']['mautic_tags']);
        $this->assertContains('wpf_tags_modified', array_column($site->actions, 0));
        $this->assertSame([], self::$crm->requests(), 'no CRM API call');
    }

    public function testAddCreatesTheUserAndReturnsThePasswordThroughTheCrm(): void
    {
        self::$crm->control('POST', 'mautic/contacts', ['id' => 61, 'fields' => ['all' => ['id' => 61, 'email' => 'ann@example.com', 'firstname' => 'Ann', 'lastname' => 'Lee']], 'tags' => [['tag' => 'vip']]]);
        $site = new ArraySite();
        $r = $this->handle($site, ['wpf_action' => 'add', 'access_key' => self::KEY, 'contact_id' => '61', 'role' => 'Customer', 'send_notification' => '1']);
        $this->assertSame(200, $r['status'], json_encode($r['body']));
        $result = $r['body']['results'][0];
        $this->assertSame(['created', 'customer', true], [$result['outcome'], $result['role'], $result['password_returned']]);
        $user = $site->users[$result['user_id']];
        $this->assertSame(['ann@example.com', 'customer', '61', ['vip']], [$user['email'], $user['role'], $user['meta']['mautic_contact_id'], $user['meta']['mautic_tags']]);
        $this->assertSame([$result['user_id']], $site->notified);
        $patch = array_values(array_filter(self::$crm->requests(), fn ($q) => $q['method'] === 'PATCH'))[0];
        $this->assertSame('/mautic/api/contacts/61/edit', $patch['path']);
        $this->assertSame($user['pass'], json_decode($patch['body'], true)['wp_password']);
        $this->assertStringNotContainsString($user['pass'], json_encode($r['body']));
        $this->assertStringNotContainsString($user['pass'], json_encode($site->logs));
        $this->assertSame([], $site->locks, 'the lock was released');
    }

    public function testRefusedRolesAndTheTestAction(): void
    {
        foreach (['administrator' => 'administrator_role', 'editor' => 'privileged_role', 'nobody' => 'unknown_role'] as $role => $reason) {
            self::$crm->control('POST', 'mautic/contacts', ['id' => 70, 'fields' => ['all' => ['email' => "$role@example.com"]], 'tags' => []]);
            $site = new ArraySite();
            $r = $this->handle($site, ['wpf_action' => 'add', 'access_key' => self::KEY, 'contact_id' => '70', 'role' => $role]);
            $this->assertSame(200, $r['status']);
            $this->assertSame($reason, $r['body']['results'][0]['role_refused']);
            $this->assertSame('subscriber', array_values($site->users)[0]['role']);
        }
        $r = $this->handle(new ArraySite(), ['wpf_action' => 'test', 'access_key' => self::KEY]);
        $this->assertSame([200, true], [$r['status'], $r['body']['success']]);
    }

    public function testANetworksSuperAdminIsNeverChangedEvenWithoutARole(): void
    {
        // A super admin on a subsite where they are a plain subscriber: the adapter's
        // super_admin flag alone must protect them. The same user without it is changed.
        foreach ([true, false] as $superAdmin) {
            self::$crm->control('POST', 'mautic/contacts', ['id' => 90, 'fields' => ['all' => ['email' => 'taken-over@example.com', 'firstname' => 'Net']], 'tags' => []]);
            $site = new ArraySite();
            $id = $site->addUser('net', 'net@example.com', 'subscriber', ['mautic_contact_id' => '90']);
            $site->users[$id]['super_admin'] = $superAdmin;
            $r = $this->handle($site, ['wpf_action' => 'update', 'access_key' => self::KEY, 'contact_id' => '90', 'role' => 'customer']);
            $this->assertSame(200, $r['status'], json_encode($r['body']));
            $result = $r['body']['results'][0];
            if ($superAdmin) {
                $this->assertSame('protected_user', $result['role_refused'] ?? null, json_encode($result));
                $this->assertSame(['net@example.com', 'subscriber'], [$site->users[$id]['email'], $site->users[$id]['role']]);
            } else {
                $this->assertSame('customer', $result['role'] ?? null, json_encode($result));
                $this->assertSame(['taken-over@example.com', 'customer'], [$site->users[$id]['email'], $site->users[$id]['role']]);
            }
        }
    }

    public function testFailuresAreAnsweredNotThrownAndChangeNothing(): void
    {
        $site = new ArraySite();
        $wire = Fixtures::read('mautic/02_contact_identified_batch_of_3.wire.json');
        $cases = [
            // The last column: refused before authentication (kept apart in the log).
            [['wpf_action' => 'add', 'access_key' => 'wrong'], $wire, [], 403, 'invalid_access_key', true],
            [['wpf_action' => 'add', 'access_key' => self::KEY], '{broken', [], 400, 'invalid_json', false],
            [['wpf_action' => 'add', 'access_key' => self::KEY], str_repeat('x', 2048), ['max_body_bytes' => 1024], 413, 'body_too_large', false],
            [['wpf_action' => 'add', 'access_key' => self::KEY], $wire, ['crm' => 'nonsense'], 500, 'invalid_setting', true],
            [['wpf_action' => 'add', 'access_key' => self::KEY], $wire, ['webhook_secret' => 'any_secret_will_do'], 403, 'missing_signature', true],
        ];
        foreach ($cases as [$query, $body, $settings, $status, $code, $refused]) {
            $r = $this->handle($site, $query, $body, $settings);
            $this->assertSame([$status, false, $code], [$r['status'], $r['body']['success'], $r['body']['code']], json_encode($r['body']));
            $this->assertSame(['add', $code, $refused], [$r['log']['action'], $r['log']['outcome'], $r['log']['refused']]);
            $this->assertStringNotContainsString(self::KEY, json_encode($r['body']) . json_encode($r['log']) . json_encode($site->logs));
        }
        // A bad setting is explained in the log, not to the unauthenticated caller.
        $this->assertStringNotContainsString('"crm"', json_encode($r['body'] ?? []));
        $this->assertSame([], $site->users);
        $this->assertSame([], self::$crm->requests());
    }

    public function testCrmFailuresAre502SoTheCrmRetries(): void
    {
        foreach ([401 => 'crm_auth_failed', 429 => 'crm_rate_limited', 500 => 'crm_unavailable'] as $status => $code) {
            self::$crm->control('POST', 'reset');
            self::$crm->control('POST', 'mautic/contacts', ['id' => 80, 'fields' => ['all' => ['email' => 'f@example.com']], 'tags' => []]);
            self::$crm->control('POST', 'fail', ['status' => $status, 'count' => 1]);
            $site = new ArraySite();
            $r = $this->handle($site, ['wpf_action' => 'add', 'access_key' => self::KEY, 'contact_id' => '80']);
            $this->assertSame([502, $code], [$r['status'], $r['body']['code']]);
            $this->assertSame([], $site->users);
        }
    }

    public function testAnAdapterExceptionBecomesASiteErrorAndNoUser(): void
    {
        $site = new ArraySite();
        $site->failOn = 'create_user';
        $r = $this->handle($site, ['wpf_action' => 'add', 'access_key' => self::KEY], Fixtures::read('mautic/01_contact_updated_single.wire.json'), ['return_password' => false]);
        $this->assertSame([500, 'site_error'], [$r['status'], $r['body']['code']]);
        $this->assertStringContainsString('create_user failed on purpose', $r['body']['message']);
        $this->assertSame([], $site->users);
        $this->assertSame([], $site->locks);
    }

    public function testCrmFunctionsForTheSettingsPage(): void
    {
        $this->assertSame(['ok' => true, 'message' => 'Connected to Mautic.'], wpf_bridge_crm_test_connection($this->settings()));
        $bad = wpf_bridge_crm_test_connection($this->settings(['mautic_password' => 'wrong']));
        $this->assertFalse($bad['ok']);
        $this->assertStringContainsString('credentials', $bad['message']);
        $this->assertStringNotContainsString('wrong', $bad['message']);
        $this->assertTrue(wpf_bridge_crm_test_connection($this->settings(['crm' => 'userengage']))['ok']);

        self::$crm->control('POST', 'userengage/users', ['id' => 7, 'name' => 'Jo Ann Smith', 'email' => 'jo@example.org', 'tags' => [['name' => 't1', 'id' => 1]], 'attributes' => [['name_std' => 'plan', 'value' => 'gold']]]);
        $contact = wpf_bridge_load_contact($this->settings(['crm' => 'userengage']), '7');
        $this->assertSame('7', $contact['id']);
        $this->assertSame('jo@example.org', $contact['email']);
        $this->assertSame(['t1'], $contact['tags']);
        $this->assertSame('gold', $contact['fields']['plan']);
        $this->assertSame('Jo', $contact['fields']['first_name']);
        try {
            wpf_bridge_load_contact($this->settings(), '999');
            $this->fail('missing contact loaded');
        } catch (WpfBridge\CrmException $e) {
            $this->assertSame('crm_contact_not_found', $e->errorCode);
        }
        $this->expectException(WpfBridge\ConfigurationException::class);
        wpf_bridge_crm_test_connection($this->settings(['crm' => 'salesforce']));
    }
}
