<?php
// Starts the project's fake CRM (tests/fake-crm, a loopback server speaking the Mautic and
// User.com APIs) as a child process, and talks to its /_control/ API.
final class FakeCrmProcess
{
    /** @var resource */
    private $process;
    /** @var array<int, resource> */
    private array $pipes = [];
    public string $baseUrl;

    public static function start(): self
    {
        $binary = getenv('WPF_FAKE_CRM') ?: dirname(__DIR__, 3) . '/target/release/fake-crm';
        if (!is_executable($binary)) {
            throw new RuntimeException("fake-crm binary not found at $binary (cargo build --release -p fake-crm)");
        }
        $self = new self();
        $self->process = proc_open([$binary, '--port', '0'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $self->pipes);
        $line = fgets($self->pipes[1]);
        if (!is_string($line) || !preg_match('#listening on (http://127\.0\.0\.1:\d+)#', $line, $m)) {
            throw new RuntimeException('fake-crm did not start: ' . stream_get_contents($self->pipes[2]));
        }
        $self->baseUrl = $m[1];
        return $self;
    }

    public function stop(): void
    {
        proc_terminate($this->process);
        proc_close($this->process);
    }

    public function mauticUrl(): string
    {
        return $this->baseUrl . '/mautic';
    }

    public function userengageUrl(): string
    {
        return $this->baseUrl . '/userengage/api/public/';
    }

    /** Calls the control API; returns the decoded JSON answer. */
    public function control(string $method, string $path, $body = null)
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => $body === null ? '' : json_encode($body),
            'ignore_errors' => true,
            'timeout' => 5,
        ]]);
        $answer = file_get_contents($this->baseUrl . '/_control/' . ltrim($path, '/'), false, $context);
        return json_decode((string) $answer, true);
    }

    /** @return list<array{method: string, path: string, headers: array, body: string}> */
    public function requests(): array
    {
        return $this->control('GET', 'requests');
    }
}
