<?php
// A Mautic "contact updated" webhook, signed, as Mautic sends it: the exact bytes of fixture
// 01 with the Webhook-Signature from signatures.txt (secret any_secret_will_do). The payload
// carries the contact's fields and tags, so the site must not call the CRM's API at all.
final class MauticSignedUpdateTest extends E2eTestCase
{
    private const FIXTURE = 'mautic/01_contact_updated_single.wire.json';
    private const SECRET = 'any_secret_will_do';

    private static int $john;

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', [
            'webhook_secret' => self::SECRET,
            'allowed_roles' => [],
        ]));
        WordPress::deleteAllUsersButAdmin();
    }

    protected function setUp(): void
    {
        FakeCrm::reset();
    }

    /** The signature recorded in signatures.txt for a fixture, checked against the bytes it signs. */
    private static function signature(string $fixture): array
    {
        $name = basename($fixture);
        foreach (file(Fixtures::path('mautic/signatures.txt'), FILE_IGNORE_NEW_LINES) as $line) {
            if (preg_match('/^' . preg_quote($name, '/') . ' bytes=(\d+) Webhook-Signature: (\S+)$/', $line, $m)) {
                return [(int) $m[1], $m[2]];
            }
        }
        throw new RuntimeException("no signature for $name in signatures.txt");
    }

    public function test_signed_contact_update_changes_the_linked_user_without_calling_the_crm(): void
    {
        $body = Fixtures::read(self::FIXTURE);
        [$bytes, $signature] = self::signature(self::FIXTURE);
        $this->assertSame($bytes, strlen($body), 'the fixture is not the byte sequence signatures.txt signs');

        self::$john = WordPress::createUser('john', 'john@doe.name',
            ['first_name' => 'Johnny', 'last_name' => 'Old'],
            ['mautic_contact_id' => '52', 'mautic_tags' => ['stale-tag']]);
        $users = WordPress::countUsers();

        $response = self::postJson(self::webhookUrl('update'), $body, ['Webhook-Signature' => $signature]);

        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('52', (string) $results[0]['contact_id'], $response->describe());
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame(self::$john, $results[0]['user_id'], $response->describe());

        $john = WordPress::user(self::$john);
        $this->assertSame('John', $john['first_name']);
        $this->assertSame('Doe', $john['last_name']);
        $this->assertSame('john@doe.name', $john['email']);
        $this->assertSame('52', $john['meta']['mautic_contact_id'] ?? null);
        $this->assertSameTags(['customer', 'wp-member'], $john['meta']['mautic_tags'] ?? null, 'mautic_tags after the update');
        $this->assertSame(['subscriber'], $john['roles'], 'an update without role= must not change the role');
        $this->assertSame($users, WordPress::countUsers(), 'an update must not create users');

        $this->assertNoCrmRequests('the payload carries the contact\'s fields and tags');
    }

    public function test_a_signed_batch_of_three_new_contacts_creates_three_users(): void
    {
        $fixture = 'mautic/02_contact_identified_batch_of_3.wire.json';
        $body = Fixtures::read($fixture);
        [$bytes, $signature] = self::signature($fixture);
        $this->assertSame($bytes, strlen($body));
        $emails = [101 => 'contact1@email.com', 102 => 'contact2@email.com', 103 => 'contact3@email.com'];
        // The contacts exist in the CRM too: the generated passwords are written back to them.
        foreach ($emails as $id => $email) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, $email, "First$id", "Last$id", []));
        }
        $users = WordPress::countUsers();

        $response = self::postJson(self::webhookUrl('add'), $body, ['Webhook-Signature' => $signature]);

        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic', 3);
        $this->assertSame(['101', '102', '103'], array_map(static fn (array $r): string => (string) $r['contact_id'], $results), $response->describe());
        $this->assertSame(['created', 'created', 'created'], array_column($results, 'outcome'), $response->describe());
        $this->assertSame($users + 3, WordPress::countUsers());
        foreach ($results as $result) {
            $user = WordPress::user($result['user_id']);
            $this->assertSame($emails[(int) $result['contact_id']], $user['email']);
            $this->assertSame((string) $result['contact_id'], $user['meta']['mautic_contact_id'] ?? null);
            $this->assertTrue($result['password_returned'] ?? false, $response->describe());
            self::rememberPassword((string) (FakeCrm::mauticContact((int) $result['contact_id'])['fields']['all']['wp_password'] ?? ''));
        }
        // The payload carried the data: the CRM was only written to (the passwords), never read.
        $requests = FakeCrm::requests();
        $this->assertSame(['PATCH', 'PATCH', 'PATCH'], array_column($requests, 'method'), FakeCrm::describe($requests));
    }

    /** @depends test_signed_contact_update_changes_the_linked_user_without_calling_the_crm */
    public function test_a_wrong_or_missing_signature_is_refused_and_changes_nothing(): void
    {
        $body = Fixtures::read(self::FIXTURE);
        [, $signature] = self::signature(self::FIXTURE);
        // The same body with the first name changed: what an attacker replaying a captured
        // webhook with edits would send.
        $tampered = str_replace('"value":"John"', '"value":"Mallory"', $body);
        $this->assertNotSame($body, $tampered, 'the tampering found nothing to change in the fixture');

        $cases = [
            'tampered body' => [$tampered, ['Webhook-Signature' => $signature], 'invalid_signature'],
            'signature of another body' => [$body, ['Webhook-Signature' => base64_encode(hash_hmac('sha256', $body . ' ', self::SECRET, true))], 'invalid_signature'],
            'no signature' => [$body, [], 'missing_signature'],
        ];
        foreach ($cases as $case => [$payload, $headers, $code]) {
            $before = WordPress::usersSnapshot();
            $logId = WordPress::lastLogId();
            $response = self::postJson(self::webhookUrl('update'), $payload, $headers);
            $this->assertWebhookError($response, 403, $code);
            $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), $case);
            $row = $this->assertOneNewLogRow($logId, 403);
            $this->assertSame($code, $row['outcome'], "$case: log entry");
        }
        $this->assertSame('John', WordPress::user(self::$john)['first_name']);
        $this->assertNoCrmRequests('refused webhooks must not reach the CRM');
    }
}
