<?php
// A site's further sources from PHP (issue 16): wpf_bridge_validate_settings() names a bad
// source by position and key, and wpf_bridge_crm_test_connection() / wpf_bridge_load_contact()
// reach a further source's CRM with that source's own API address and key (the fake CRM's
// MailerLite API on 127.0.0.1).
use PHPUnit\Framework\TestCase;

final class SourcesTest extends TestCase
{
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

    private function settings(array $mailerlite = []): array
    {
        return [
            'access_key' => 'php-sources-first-key-0001',
            'crm' => 'mautic',
            'mautic_url' => self::$crm->mauticUrl(),
            'mautic_username' => 'mautic-user',
            'mautic_password' => 'mautic-password',
            'crm_timeout' => 2,
            'sources' => [
                ['mapping' => 'drip', 'access_key' => 'php-sources-drip-key-0002'],
                $mailerlite + [
                    'mapping' => 'mailerlite',
                    'access_key' => 'php-sources-mailerlite-key-3',
                    'webhook_secret' => 'ml-signing-secret',
                    'api_url' => self::$crm->baseUrl . '/mailerlite/api',
                    'api_key' => 'mailerlite-token',
                ],
            ],
        ];
    }

    public function testValidatedSourcesComeBackAsStoredAndBadOnesAreNamed(): void
    {
        $valid = wpf_bridge_validate_settings($this->settings());
        $this->assertSame('mailerlite', $valid['sources'][1]['mapping']);
        $this->assertSame('php-sources-mailerlite-key-3', $valid['sources'][1]['access_key']);
        $this->assertArrayNotHasKey('slug', $valid['sources'][1]);
        $cases = [
            'sources[1][webhook_secret]' => ['webhook_secret' => ''],
            'sources[1][access_key]' => ['access_key' => 'php-sources-drip-key-0002'],
            'sources[1][mapping]' => ['mapping' => ['slug' => 'shop', 'contact_id' => ['pointers' => ['id']]]],
        ];
        foreach ($cases as $key => $patch) {
            try {
                wpf_bridge_validate_settings($this->settings($patch));
                $this->fail("$key: accepted");
            } catch (WpfBridge\ConfigurationException $e) {
                $this->assertStringContainsString("\"$key\"", $e->getMessage());
                $this->assertStringNotContainsString('ml-signing-secret', $e->getMessage());
            }
        }
    }

    public function testASourcesCrmIsReachedWithItsOwnCredentials(): void
    {
        $id = self::$crm->control('POST', 'mailerlite/subscribers', [
            'id' => '31986843064993537', 'email' => 'dummy@example.com',
            'fields' => ['name' => 'Dummy', 'last_name' => 'Testerson'],
            'groups' => [['id' => '71', 'name' => 'Customers']],
        ])['id'];
        $this->assertSame(['ok' => true, 'message' => 'Connected to MailerLite.'], wpf_bridge_crm_test_connection($this->settings(), 'mailerlite'));
        $contact = wpf_bridge_load_contact($this->settings(), (string) $id, 'mailerlite');
        $this->assertSame('dummy@example.com', $contact['email']);
        $this->assertSame(['Customers'], $contact['tags']);
        $last = self::$crm->requests();
        $this->assertSame('Bearer mailerlite-token', end($last)['headers']['authorization'] ?? null);

        $wrong = wpf_bridge_crm_test_connection($this->settings(['api_key' => 'not-the-token']), 'mailerlite');
        $this->assertFalse($wrong['ok']);
        $this->assertSame('crm_auth_failed', $wrong['code']);
        $this->assertStringNotContainsString('not-the-token', $wrong['message']);

        foreach (['drip' => 'Setting "sources[0][mapping]" is invalid: the CRM "drip" has no API client', 'nope' => 'names no source'] as $source => $words) {
            try {
                wpf_bridge_crm_test_connection($this->settings(), $source);
                $this->fail("$source: no exception");
            } catch (WpfBridge\ConfigurationException $e) {
                $this->assertStringContainsString($words, $e->getMessage());
            }
        }
    }
}
