<?php
use PHPUnit\Framework\TestCase;

// Shared by the e2e tests: sending webhooks the way a CRM does, and assertions on what they
// did (or did not do) to WordPress.
abstract class E2eTestCase extends TestCase
{
    /** Generated passwords seen during the run (read back from the fake CRM), for SecretLeakTest. */
    public static array $generatedPasswords = [];

    /** The webhook URL: /?wpf_action=ACTION&access_key=KEY&... (WP Fusion's contract). */
    protected static function webhookUrl(string $action, array $params = [], ?string $key = null): string
    {
        $query = ['wpf_action' => $action, 'access_key' => $key ?? WordPress::accessKey()] + $params;
        return Env::url() . '/?' . http_build_query($query);
    }

    /** POSTs a JSON body to a webhook URL, as Mautic and User.com do. */
    protected static function postJson(string $url, string $body, array $headers = []): HttpResponse
    {
        return (new Http())->request('POST', $url, $body, $headers + ['Content-Type' => 'application/json']);
    }

    /** A successful webhook answer: 200, success true, one result per event; returns the results. */
    protected function assertWebhookSucceeded(HttpResponse $response, string $action, string $crm, int $events = 1): array
    {
        $this->assertSame(200, $response->status, $response->describe());
        $json = $response->json();
        $this->assertTrue($json['success'] ?? null, $response->describe());
        $this->assertSame($action, $json['action'] ?? null, $response->describe());
        $this->assertSame($crm, $json['crm'] ?? null, $response->describe());
        $this->assertCount($events, $json['results'] ?? [], $response->describe());
        return $json['results'];
    }

    /** An error answer: the status, JSON {"success": false, "code": CODE, "message": ...}. */
    protected function assertWebhookError(HttpResponse $response, int $status, string $code): void
    {
        $this->assertSame($status, $response->status, $response->describe());
        $this->assertStringStartsWith('application/json', (string) $response->header('content-type'), $response->describe());
        $json = $response->json();
        $this->assertFalse($json['success'] ?? null, $response->describe());
        $this->assertSame($code, $json['code'] ?? null, $response->describe());
        $this->assertIsString($json['message'] ?? null, $response->describe());
        $this->assertNotSame('', trim($json['message']), $response->describe());
    }

    /** Two users/usermeta snapshots must be equal; the message shows the difference. */
    protected function assertUsersUnchanged(array $before, array $after, string $what): void
    {
        $removed = array_values(array_diff($before, $after));
        $added = array_values(array_diff($after, $before));
        $this->assertSame([], array_merge($removed, $added),
            "$what changed the users or usermeta tables:\n- " . implode("\n- ", $removed) . "\n+ " . implode("\n+ ", $added));
    }

    /** The fake CRM received no API request (only the control API was used). */
    protected function assertNoCrmRequests(string $why): void
    {
        $requests = FakeCrm::requests();
        $this->assertSame([], $requests, "$why, yet the fake CRM received:\n" . FakeCrm::describe($requests));
    }

    /** Tag lists compared as sets. */
    protected function assertSameTags(array $expected, mixed $actual, string $message = ''): void
    {
        $this->assertIsArray($actual, $message);
        sort($expected);
        $actual = array_values($actual);
        sort($actual);
        $this->assertSame($expected, $actual, $message);
    }

    /**
     * One log table row newer than $afterId, and returns it (the webhook wrote its entry). A
     * request refused before authentication is only counted (WPF_Bridge_Refusals): its
     * counters are folded into the log first, where it is one refused row of one request.
     */
    protected function assertOneNewLogRow(int $afterId, int $status): array
    {
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        $rows = array_values(array_filter(WordPress::logRows(20), static fn (array $row): bool => (int) $row['id'] > $afterId));
        $this->assertCount(1, $rows, 'expected exactly one new log entry, got: ' . json_encode($rows));
        $this->assertSame((string) $status, $rows[0]['status']);
        $this->assertSame('1', $rows[0]['hits'], 'one request: ' . json_encode($rows[0]));
        return $rows[0];
    }

    /**
     * The newest log id once the refusal counters of earlier requests are folded into the log
     * (they become rows only then): what assertOneNewLogRow() counts from.
     */
    protected static function foldedLastLogId(): int
    {
        WordPress::php('return WPF_Bridge_Refusals::fold();');
        return WordPress::lastLogId();
    }

    /** Remembers a generated password for SecretLeakTest and returns it. */
    protected static function rememberPassword(string $password): string
    {
        self::assertNotSame('', $password, 'no generated password to remember (was it returned to the CRM?)');
        self::$generatedPasswords[] = $password;
        return $password;
    }

    /**
     * Logs in through wp-login.php as a browser does: GET sets the test cookie, POST sends it.
     *
     * @return array{client: Http, response: HttpResponse}
     */
    protected function logIn(string $login, string $password): array
    {
        $client = Http::withCookies();
        $form = $client->get(Env::url() . '/wp-login.php');
        $this->assertSame(200, $form->status);
        $this->assertArrayHasKey('wordpress_test_cookie', $client->cookies(), 'wp-login.php set no test cookie');
        $response = $client->postForm(Env::url() . '/wp-login.php', [
            'log' => $login,
            'pwd' => $password,
            'wp-submit' => 'Log In',
            'redirect_to' => Env::url() . '/wp-admin/profile.php',
            'testcookie' => '1',
        ]);
        return ['client' => $client, 'response' => $response];
    }
}
