<?php
// User.com ("API call" automation module) webhooks: the body of fixture userengage/01 names
// user 7 but carries neither tags nor attributes, so the site loads the user from User.com's
// REST API (the fake CRM, seeded per test). `add` creates, `update_tags` replaces the tags.
// Order inside the class matters (@depends): update_tags works on the user add created.
final class UserEngageTest extends E2eTestCase
{
    private const FIXTURE = 'userengage/01_api_call_body_confirmed_keys.json';
    private const USER = 7;
    private const EMAIL = 'johndoe@example.org';

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('userengage', [
            'allowed_roles' => [],
        ]));
        WordPress::deleteAllUsersButAdmin();
    }

    public static function tearDownAfterClass(): void
    {
        // Later classes expect Mautic; they configure it themselves, this only limits surprises.
        WordPress::configure(['crm' => 'mautic']);
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
    }

    private static function seedUser(array $tags): void
    {
        FakeCrm::addUserEngageUser([
            'id' => self::USER,
            'key' => 'x7NM5xw2eFxl',
            'name' => 'John Doe',
            'email' => self::EMAIL,
            'status' => 'visitor',
            'attributes' => [['name' => 'Plan', 'name_std' => 'plan', 'value' => 'gold', 'id' => 11]],
            'tags' => array_map(static fn (string $tag, int $i): array => ['name' => $tag, 'id' => 100 + $i], $tags, array_keys($tags)),
            'lists' => [],
        ]);
    }

    public function test_add_creates_the_user_from_the_user_com_api(): int
    {
        $body = Fixtures::read(self::FIXTURE);
        $this->assertSame(self::USER, json_decode($body, true)['user']['id'], 'the fixture changed');
        self::seedUser(['vip', 'newsletter']);
        $users = WordPress::countUsers();

        $response = self::postJson(self::webhookUrl('add'), $body);

        $results = $this->assertWebhookSucceeded($response, 'add', 'userengage');
        $this->assertSame((string) self::USER, (string) $results[0]['contact_id'], $response->describe());
        $this->assertSame('created', $results[0]['outcome'], $response->describe());
        $this->assertTrue($results[0]['password_returned'] ?? false, $response->describe());
        $id = $results[0]['user_id'];

        $this->assertSame($users + 1, WordPress::countUsers());
        $user = WordPress::user($id);
        $this->assertSame(self::EMAIL, $user['email']);
        $this->assertSame('John', $user['first_name']);
        $this->assertSame('Doe', $user['last_name']);
        $this->assertSame(['subscriber'], $user['roles'], 'no role= in the URL: the site\'s default role');
        $this->assertSame((string) self::USER, $user['meta']['userengage_contact_id'] ?? null);
        $this->assertSameTags(['vip', 'newsletter'], $user['meta']['userengage_tags'] ?? null);
        $this->assertArrayNotHasKey('mautic_contact_id', $user['meta']);

        $requests = FakeCrm::requests();
        $calls = array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], $requests);
        $this->assertContains('GET /userengage/api/public/users/' . self::USER . '/', $calls, FakeCrm::describe($requests));
        $this->assertSame('Token ' . Env::get('WPF_E2E_USERENGAGE_KEY'), $requests[0]['headers']['authorization'] ?? null);
        $writes = array_values(array_filter($requests, static fn (array $r): bool => $r['method'] === 'POST'));
        $this->assertCount(1, $writes, FakeCrm::describe($requests));
        $this->assertSame('/userengage/api/public/users/' . self::USER . '/set_multiple_attributes/', $writes[0]['path']);
        $password = self::rememberPassword((string) (json_decode($writes[0]['body'], true)['wp_password'] ?? ''));
        $this->assertNotSame('', $password, 'no wp_password in ' . $writes[0]['body']);
        $stored = array_column(FakeCrm::userEngageUser(self::USER)['attributes'] ?? [], 'value', 'name_std');
        $this->assertSame($password, $stored['wp_password'] ?? null, 'the fake CRM did not store the password attribute');
        return $id;
    }

    /** @depends test_add_creates_the_user_from_the_user_com_api */
    public function test_update_tags_replaces_the_tags_and_nothing_else(int $id): void
    {
        self::seedUser(['vip', 'churned']);
        $before = WordPress::user($id);
        $users = WordPress::countUsers();

        $response = self::postJson(self::webhookUrl('update_tags'), Fixtures::read(self::FIXTURE));

        $results = $this->assertWebhookSucceeded($response, 'update_tags', 'userengage');
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame($id, $results[0]['user_id'], $response->describe());
        $after = WordPress::user($id);
        $this->assertSameTags(['vip', 'churned'], $after['meta']['userengage_tags'] ?? null);
        foreach (['email', 'first_name', 'last_name', 'roles', 'login'] as $field) {
            $this->assertSame($before[$field], $after[$field], "update_tags changed $field");
        }
        $this->assertSame($users, WordPress::countUsers());
        $requests = FakeCrm::requests();
        $this->assertSame([], array_values(array_filter($requests, static fn (array $r): bool => $r['method'] !== 'GET')),
            'update_tags must only read from the CRM: ' . FakeCrm::describe($requests));
    }
}
