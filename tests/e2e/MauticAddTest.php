<?php
// `add` webhooks as a Mautic campaign action sends them: the contact id in the URL, the
// contact's data loaded from the CRM's API, the role and the welcome email asked for in the
// URL, the generated password written back to the CRM field wp_password.
//
// Campaign webhook actions are not signed by Mautic, so this class runs without a webhook
// secret. Order inside the class matters and is declared with @depends: the repeated add
// works on the user the first test created.
final class MauticAddTest extends E2eTestCase
{
    private const CONTACT = 300;
    private const EMAIL = 'jane.adder@example.com';
    private const CONCURRENT_CONTACT = 301;
    private const CONCURRENT_EMAIL = 'crowd@example.com';
    private const CONCURRENCY = 20;

    public static function setUpBeforeClass(): void
    {
        WordPress::addRole('customer', 'Customer');
        WordPress::configure(WordPress::fakeCrmSettings('mautic'));
        WordPress::deleteAllUsersButAdmin();
        FakeCrm::reset();
    }

    private static function addUrl(int $contact): string
    {
        return self::webhookUrl('add', ['contact_id' => (string) $contact, 'role' => 'customer', 'send_notification' => 'true']);
    }

    /** @return array{0: int, 1: string} the new user's id and its generated password */
    public function test_add_creates_the_user_from_the_crm_and_returns_a_working_password(): array
    {
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::CONTACT, self::EMAIL, 'Jane', 'Adder', ['paid', 'newsletter']));
        $users = WordPress::countUsers();
        $mails = WordPress::mailFiles();

        $response = self::postJson(self::addUrl(self::CONTACT), '');

        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
        $result = $results[0];
        $this->assertSame((string) self::CONTACT, (string) $result['contact_id'], $response->describe());
        $this->assertSame('created', $result['outcome'], $response->describe());
        $this->assertSame('customer', $result['role'] ?? null, $response->describe());
        $this->assertArrayNotHasKey('role_refused', $result, $response->describe());
        $this->assertTrue($result['password_returned'] ?? false, $response->describe());
        $this->assertIsInt($result['user_id'], $response->describe());
        $id = $result['user_id'];

        // WordPress: one new user, from the CRM's data, linked to the contact.
        $this->assertSame($users + 1, WordPress::countUsers());
        $user = WordPress::user($id);
        $this->assertNotNull($user, "user $id does not exist");
        $this->assertSame(self::EMAIL, $user['email']);
        $this->assertSame('Jane', $user['first_name']);
        $this->assertSame('Adder', $user['last_name']);
        $this->assertSame(['customer'], $user['roles']);
        $this->assertSame((string) self::CONTACT, $user['meta']['mautic_contact_id'] ?? null);
        $this->assertSameTags(['paid', 'newsletter'], $user['meta']['mautic_tags'] ?? null);
        $this->assertSame([$id], WordPress::userIdsWithMeta('mautic_contact_id', (string) self::CONTACT));

        // The CRM: the contact was read, and the password PATCHed into wp_password.
        $requests = FakeCrm::requests();
        $paths = array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], $requests);
        $this->assertContains('GET /mautic/api/contacts/' . self::CONTACT, $paths, FakeCrm::describe($requests));
        $patches = array_values(array_filter($requests, static fn (array $r): bool => $r['method'] === 'PATCH'));
        $this->assertCount(1, $patches, FakeCrm::describe($requests));
        $this->assertSame('/mautic/api/contacts/' . self::CONTACT . '/edit', $patches[0]['path']);
        $this->assertStringStartsWith('Basic ', $patches[0]['headers']['authorization'] ?? '', 'the API must be called with the configured basic auth');
        $sent = json_decode($patches[0]['body'], true);
        $this->assertIsArray($sent, 'PATCH body: ' . $patches[0]['body']);
        // overwriteWithBlank is Mautic's edit option, not a field.
        $this->assertSame(['wp_password'], array_values(array_diff(array_keys($sent), ['overwriteWithBlank'])), 'the PATCH must only write the password field');
        $password = self::rememberPassword((string) $sent['wp_password']);
        $this->assertGreaterThanOrEqual(12, strlen($password), 'a generated password this short is guessable');
        $contact = FakeCrm::mauticContact(self::CONTACT);
        $this->assertSame($password, $contact['fields']['all']['wp_password'] ?? null, 'the fake CRM did not store the password');

        // The welcome email, to the new user only.
        $new = WordPress::mailsSince($mails);
        $this->assertCount(1, $new, 'expected one welcome email, got: ' . json_encode($new));
        $this->assertSame([self::EMAIL], $new[0]['to']);
        $this->assertStringContainsString($user['login'], $new[0]['message'], 'the welcome email should name the login');
        // The set-password link: wp-login.php with action=rp and a key (6.1 puts action first, 6.8 last).
        $this->assertMatchesRegularExpression('#/wp-login\.php\?\S+#', $new[0]['message'], 'the welcome email should carry the set-password link');
        preg_match('#/wp-login\.php\?(\S+)#', $new[0]['message'], $link);
        parse_str($link[1], $query);
        $this->assertSame('rp', $query['action'] ?? null, 'the welcome email\'s link is not a set-password link: ' . $link[0]);
        $this->assertNotEmpty($query['key'] ?? '', 'the set-password link carries no key: ' . $link[0]);
        $this->assertStringNotContainsString($password, $new[0]['message'], 'the password must not be mailed in clear');

        return [$id, $password];
    }

    /** @depends test_add_creates_the_user_from_the_crm_and_returns_a_working_password */
    public function test_the_returned_password_logs_in_through_wp_login(array $created): void
    {
        [$id, $password] = $created;
        $login = WordPress::user($id)['login'];

        // A wrong password first: proves the check below is not satisfied by any password.
        $wrong = $this->logIn($login, $password . 'x');
        $this->assertSame(200, $wrong['response']->status, 'a wrong password must show the login form again');
        $this->assertStringContainsString('login_error', $wrong['response']->body);
        $this->assertSame([], preg_grep('/^wordpress_logged_in_/', array_keys($wrong['client']->cookies())));

        $right = $this->logIn($login, $password);
        $response = $right['response'];
        $this->assertSame(302, $response->status, 'wp-login.php did not accept the returned password: ' . substr(strip_tags($response->body), 0, 600));
        $this->assertStringEndsWith('/wp-admin/profile.php', (string) $response->header('location'));
        $cookies = $right['client']->cookies();
        $this->assertNotEmpty(preg_grep('/^wordpress_logged_in_/', array_keys($cookies)), 'no logged-in cookie: ' . json_encode(array_keys($cookies)));

        $profile = $right['client']->get(Env::url() . '/wp-admin/profile.php');
        $this->assertSame(200, $profile->status, 'the profile page did not open with the new cookies');
        $this->assertMatchesRegularExpression('/id="email"[^>]*value="' . preg_quote(self::EMAIL, '/') . '"/', $profile->body, 'the profile page is not the new user\'s');
        $this->assertStringContainsString('id="user_login"', $profile->body);
    }

    /** @depends test_add_creates_the_user_from_the_crm_and_returns_a_working_password */
    public function test_the_same_add_again_updates_and_creates_nothing(array $created): void
    {
        [$id] = $created;
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::CONTACT, self::EMAIL, 'Janet', 'Adder', ['paid']));
        $users = WordPress::countUsers();
        $mails = WordPress::mailFiles();

        $response = self::postJson(self::addUrl(self::CONTACT), '');

        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame($id, $results[0]['user_id'], $response->describe());
        $this->assertArrayNotHasKey('password_returned', $results[0], $response->describe());
        $this->assertSame($users, WordPress::countUsers(), 'a repeated add created a user');
        $this->assertSame([$id], WordPress::userIdsWithMeta('mautic_contact_id', (string) self::CONTACT));
        $user = WordPress::user($id);
        $this->assertSame('Janet', $user['first_name'], 'the repeated add should apply the CRM\'s current data');
        $this->assertSameTags(['paid'], $user['meta']['mautic_tags'] ?? null);
        $this->assertSame([], WordPress::mailsSince($mails), 'a repeated add sent another welcome email');
        $requests = FakeCrm::requests();
        $this->assertSame([], array_values(array_filter($requests, static fn (array $r): bool => $r['method'] !== 'GET')),
            'a repeated add must not write to the CRM (no new password): ' . FakeCrm::describe($requests));
    }

    public function test_concurrent_adds_for_one_new_contact_create_exactly_one_user(): void
    {
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::CONCURRENT_CONTACT, self::CONCURRENT_EMAIL, 'Crowd', 'Member', ['rush']));
        $users = WordPress::countUsers();
        // Slow CRM answers widen the window between "no user for this contact yet" and
        // "user created", where requests without the per-contact lock would each create one.
        FakeCrm::control('POST', 'delay', ['ms' => 300, 'count' => 4]);

        $started = microtime(true);
        $responses = (new Http())->concurrently(self::CONCURRENCY, 'POST', self::addUrl(self::CONCURRENT_CONTACT), '',
            ['Content-Type' => 'application/json'], 90);
        $elapsed = microtime(true) - $started;

        $this->assertCount(self::CONCURRENCY, $responses);
        $outcomes = [];
        $userIds = [];
        foreach ($responses as $response) {
            $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
            $outcomes[] = $results[0]['outcome'];
            if (isset($results[0]['user_id'])) {
                $userIds[] = $results[0]['user_id'];
            }
        }
        // Each request stores its event, then takes the contact's turn: the first creates the
        // user; an event another request's turn already took (coalesced into its apply) is
        // answered `queued`, the others `updated`.
        $counts = array_count_values($outcomes);
        $this->assertSame(1, $counts['created'] ?? 0, 'outcomes: ' . json_encode($counts));
        $this->assertSame(self::CONCURRENCY - 1, ($counts['updated'] ?? 0) + ($counts['queued'] ?? 0), 'outcomes: ' . json_encode($counts));
        $this->assertCount(1, array_unique($userIds), 'the answers name different users: ' . json_encode($userIds));
        $this->assertSame([], WordPress::query('SELECT id FROM ' . WordPress::table('wpf_bridge_queue') . " WHERE contact_id = '" . self::CONCURRENT_CONTACT . "' AND state <> 'done'"), 'every event of the contact is done');

        $this->assertSame($users + 1, WordPress::countUsers(), sprintf('%d concurrent adds (%.1f s)', self::CONCURRENCY, $elapsed));
        $this->assertSame([$userIds[0]], WordPress::userIdsWithMeta('mautic_contact_id', (string) self::CONCURRENT_CONTACT));
        $this->assertSame(self::CONCURRENT_EMAIL, WordPress::user($userIds[0])['email']);

        $patches = array_values(array_filter(FakeCrm::requests(), static fn (array $r): bool => $r['method'] === 'PATCH'));
        $this->assertCount(1, $patches, 'exactly one password must be written to the CRM');
        self::rememberPassword((string) (json_decode($patches[0]['body'], true)['wp_password'] ?? ''));
    }
}
