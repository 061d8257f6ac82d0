<?php
// HTTP over curl for the e2e tests: every call has a connect and a total timeout, redirects
// are never followed (tests assert them), and cookies live in an explicit jar per client.
// Every answer to a webhook URL (one with wpf_action) is remembered, so SecretLeakTest can
// scan every response body the run produced.

final class HttpResponse
{
    /** @param array<string, list<string>> $headers lowercased names */
    public function __construct(
        public readonly int $status,
        public readonly array $headers,
        public readonly string $body,
        public readonly string $method,
        public readonly string $url,
    ) {
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)][0] ?? null;
    }

    /** The body as JSON; fails the calling test with the body when it is not JSON. */
    public function json(): array
    {
        $data = json_decode($this->body, true);
        if (!is_array($data)) {
            throw new RuntimeException(sprintf("%s %s answered %d with a body that is not a JSON object:\n%s",
                $this->method, Http::redact($this->url), $this->status, substr($this->body, 0, 2000)));
        }
        return $data;
    }

    /** "METHOD url -> status body" with the access key hidden, for assertion messages. */
    public function describe(): string
    {
        return sprintf('%s %s -> %d %s', $this->method, Http::redact($this->url), $this->status, substr($this->body, 0, 1500));
    }
}

final class Http
{
    public const CONNECT_TIMEOUT = 5;
    public const TIMEOUT = 30;

    /** @var list<HttpResponse> answers to webhook URLs, in order */
    public static array $webhookResponses = [];

    private ?string $cookieJar = null;

    /** A client with its own cookie jar (a temp file, removed with the client). */
    public static function withCookies(): self
    {
        $client = new self();
        $client->cookieJar = tempnam(sys_get_temp_dir(), 'wpf-e2e-cookies-');
        return $client;
    }

    public function __destruct()
    {
        if ($this->cookieJar !== null && is_file($this->cookieJar)) {
            unlink($this->cookieJar);
        }
    }

    /** Cookies in the jar: name => value (curl writes the jar when the handle closes). */
    public function cookies(): array
    {
        $cookies = [];
        foreach (file((string) $this->cookieJar, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
            if (str_starts_with($line, '#HttpOnly_')) {
                $line = substr($line, 10);
            } elseif ($line === '' || $line[0] === '#') {
                continue;
            }
            $parts = explode("\t", $line);
            if (count($parts) >= 7) {
                $cookies[$parts[5]] = $parts[6];
            }
        }
        return $cookies;
    }

    /**
     * @param array<string, string> $headers
     */
    public function request(string $method, string $url, ?string $body = null, array $headers = [], int $timeout = self::TIMEOUT): HttpResponse
    {
        $handle = $this->handle($method, $url, $body, $headers, $timeout, $responseHeaders);
        $raw = curl_exec($handle);
        if ($raw === false) {
            $error = curl_error($handle);
            curl_close($handle);
            throw new RuntimeException("$method " . self::redact($url) . " failed: $error");
        }
        $response = new HttpResponse((int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE), $responseHeaders, (string) $raw, $method, $url);
        curl_close($handle);
        self::remember($response);
        return $response;
    }

    public function get(string $url, array $headers = []): HttpResponse
    {
        return $this->request('GET', $url, null, $headers);
    }

    /** POST a form (application/x-www-form-urlencoded). */
    public function postForm(string $url, array $fields, array $headers = []): HttpResponse
    {
        return $this->request('POST', $url, http_build_query($fields), $headers + ['Content-Type' => 'application/x-www-form-urlencoded']);
    }

    /**
     * The same request sent $count times at once (curl_multi), bounded by $timeout seconds
     * for the whole batch.
     *
     * @return list<HttpResponse>
     */
    public function concurrently(int $count, string $method, string $url, ?string $body = null, array $headers = [], int $timeout = 60): array
    {
        $multi = curl_multi_init();
        $handles = [];
        $headerSinks = [];
        for ($i = 0; $i < $count; $i++) {
            $handles[$i] = $this->handle($method, $url, $body, $headers, $timeout, $headerSinks[$i]);
            curl_multi_add_handle($multi, $handles[$i]);
        }
        $deadline = microtime(true) + $timeout + 5;
        do {
            $status = curl_multi_exec($multi, $running);
            if ($running > 0) {
                curl_multi_select($multi, 0.5);
            }
        } while ($running > 0 && $status === CURLM_OK && microtime(true) < $deadline);

        $responses = [];
        $failures = [];
        foreach ($handles as $i => $handle) {
            $code = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
            $error = curl_error($handle);
            if ($code === 0 || $error !== '') {
                $failures[] = "request $i: " . ($error ?: 'no answer');
            } else {
                $response = new HttpResponse($code, $headerSinks[$i], (string) curl_multi_getcontent($handle), $method, $url);
                self::remember($response);
                $responses[] = $response;
            }
            curl_multi_remove_handle($multi, $handle);
            curl_close($handle);
        }
        curl_multi_close($multi);
        if ($failures) {
            throw new RuntimeException(count($failures) . " of $count concurrent requests to " . self::redact($url) . " got no answer:\n" . implode("\n", $failures));
        }
        return $responses;
    }

    /** The URL with access_key's value hidden (for messages). */
    public static function redact(string $url): string
    {
        return (string) preg_replace('/(access_key=)[^&]*/', '$1***', $url);
    }

    private static function remember(HttpResponse $response): void
    {
        if (str_contains($response->url, 'wpf_action=')) {
            self::$webhookResponses[] = $response;
        }
    }

    /** @return CurlHandle */
    private function handle(string $method, string $url, ?string $body, array $headers, int $timeout, &$responseHeaders)
    {
        $responseHeaders = [];
        $handle = curl_init($url);
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        // curl would send "Expect: 100-continue" for large bodies; a CRM does not.
        $lines[] = 'Expect:';
        curl_setopt_array($handle, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_CONNECTTIMEOUT => self::CONNECT_TIMEOUT,
            CURLOPT_TIMEOUT => $timeout,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_PROXY => '',
            CURLOPT_NOPROXY => '*',
            CURLOPT_HEADERFUNCTION => static function ($h, string $line) use (&$responseHeaders): int {
                if (str_contains($line, ':')) {
                    [$name, $value] = explode(':', $line, 2);
                    $responseHeaders[strtolower(trim($name))][] = trim($value);
                }
                return strlen($line);
            },
        ]);
        if ($method === 'HEAD') {
            curl_setopt($handle, CURLOPT_NOBODY, true);
        }
        if ($body !== null) {
            curl_setopt($handle, CURLOPT_POSTFIELDS, $body);
        }
        if ($this->cookieJar !== null) {
            curl_setopt($handle, CURLOPT_COOKIEFILE, $this->cookieJar);
            curl_setopt($handle, CURLOPT_COOKIEJAR, $this->cookieJar);
        }
        return $handle;
    }
}
