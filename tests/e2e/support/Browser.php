<?php
// Headless Chromium driven through chromedriver's W3C WebDriver HTTP API, with curl.
// Debian packages only (chromium, chromium-driver); works offline. start() launches
// chromedriver on a free 127.0.0.1 port with a fresh profile directory; quit() ends the
// session (which ends Chromium), stops chromedriver by its own pid and removes the profile.
final class Browser
{
    private const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
    private const COMMAND_TIMEOUT = 60;

    /** @var resource|null */
    private $process = null;
    private string $driverUrl = '';
    private string $session = '';
    private string $profileDir = '';
    private string $driverLog = '';

    public static function start(): self
    {
        $driver = getenv('WPF_E2E_CHROMEDRIVER') ?: '/usr/bin/chromedriver';
        $chromium = getenv('WPF_E2E_CHROMIUM') ?: '/usr/bin/chromium';
        foreach ([$driver => 'chromium-driver', $chromium => 'chromium'] as $binary => $package) {
            if (!is_executable($binary)) {
                throw new RuntimeException("$binary not found: install Debian's $package (scripts/install-deps.sh)");
            }
        }
        $browser = new self();
        $browser->profileDir = self::tempDir('wpf-e2e-chromium-');
        $browser->driverLog = $browser->profileDir . '.chromedriver.log';
        $port = self::freePort();
        $browser->process = proc_open(
            [$driver, '--port=' . $port, '--allowed-ips=127.0.0.1', '--log-path=' . $browser->driverLog],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes
        );
        if (!is_resource($browser->process)) {
            throw new RuntimeException("cannot start $driver");
        }
        register_shutdown_function([$browser, 'quit']);
        $browser->driverUrl = "http://127.0.0.1:$port";

        $deadline = microtime(true) + 15;
        while (true) {
            try {
                $status = $browser->call('GET', '/status', null, 2);
                if (!empty($status['ready'])) {
                    break;
                }
            } catch (RuntimeException $e) {
                // not listening yet
            }
            if (microtime(true) > $deadline || !proc_get_status($browser->process)['running']) {
                $browser->quit();
                throw new RuntimeException("chromedriver did not become ready on port $port");
            }
            usleep(100000);
        }

        $session = $browser->call('POST', '/session', ['capabilities' => ['alwaysMatch' => [
            'browserName' => 'chrome',
            'pageLoadStrategy' => 'normal',
            'timeouts' => ['pageLoad' => 30000, 'script' => 10000, 'implicit' => 0],
            'goog:chromeOptions' => [
                'binary' => $chromium,
                'args' => [
                    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                    '--disable-quic', '--no-first-run', '--disable-background-networking',
                    '--disable-component-update', '--disable-sync',
                    '--user-data-dir=' . $browser->profileDir, '--window-size=1280,1800',
                ],
            ],
        ]]]);
        $browser->session = (string) ($session['sessionId'] ?? '');
        if ($browser->session === '') {
            $browser->quit();
            throw new RuntimeException('chromedriver created no session: ' . json_encode($session));
        }
        return $browser;
    }

    /** Ends the session (and Chromium), stops chromedriver, removes the profile. Idempotent. */
    public function quit(): void
    {
        if ($this->session !== '') {
            try {
                $this->call('DELETE', '/session/' . $this->session, null, 15);
            } catch (RuntimeException $e) {
                // chromedriver gone already; it takes Chromium with it
            }
            $this->session = '';
        }
        if (is_resource($this->process)) {
            $pid = proc_get_status($this->process)['pid'];
            proc_terminate($this->process, 15);
            $deadline = microtime(true) + 5;
            while (proc_get_status($this->process)['running'] && microtime(true) < $deadline) {
                usleep(50000);
            }
            if (proc_get_status($this->process)['running']) {
                posix_kill($pid, 9);
            }
            proc_close($this->process);
            $this->process = null;
        }
        if ($this->profileDir !== '' && is_dir($this->profileDir)) {
            Proc::run(['rm', '-rf', '--', $this->profileDir], 30);
            @unlink($this->driverLog);
            $this->profileDir = '';
        }
    }

    public function get(string $url): void
    {
        $this->command('POST', 'url', ['url' => $url]);
    }

    public function currentUrl(): string
    {
        return (string) $this->command('GET', 'url');
    }

    public function title(): string
    {
        return (string) $this->command('GET', 'title');
    }

    public function source(): string
    {
        return (string) $this->command('GET', 'source');
    }

    /** The element matching a CSS selector; fails with the page's URL and title when absent. */
    public function find(string $css): string
    {
        $found = $this->findAll($css);
        if (!$found) {
            throw new RuntimeException("no element matches '$css' on " . $this->currentUrl() . ' (title: ' . $this->title() . ')');
        }
        return $found[0];
    }

    /** @return list<string> element ids */
    public function findAll(string $css): array
    {
        $elements = $this->command('POST', 'elements', ['using' => 'css selector', 'value' => $css]);
        return array_map(static fn (array $e): string => $e[self::ELEMENT], $elements);
    }

    /** The first element matching a CSS selector inside another element. */
    public function findIn(string $element, string $css): string
    {
        $found = $this->command('POST', "element/$element/elements", ['using' => 'css selector', 'value' => $css]);
        if (!$found) {
            throw new RuntimeException("no element matches '$css' inside the given element on " . $this->currentUrl());
        }
        return $found[0][self::ELEMENT];
    }

    /** Waits up to $timeout seconds for an element to appear. */
    public function waitFor(string $css, float $timeout = 15): string
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            $found = $this->findAll($css);
            if ($found) {
                return $found[0];
            }
            if (microtime(true) > $deadline) {
                throw new RuntimeException("'$css' did not appear within {$timeout}s on " . $this->currentUrl() . ' (title: ' . $this->title() . ')');
            }
            usleep(100000);
        }
    }

    public function text(string $element): string
    {
        return (string) $this->command('GET', "element/$element/text");
    }

    /** A DOM property (value, checked, ...). */
    public function property(string $element, string $name): mixed
    {
        return $this->command('GET', "element/$element/property/$name");
    }

    public function attribute(string $element, string $name): ?string
    {
        $value = $this->command('GET', "element/$element/attribute/$name");
        return $value === null ? null : (string) $value;
    }

    public function click(string $element): void
    {
        $this->command('POST', "element/$element/click", new stdClass());
    }

    public function clear(string $element): void
    {
        $this->command('POST', "element/$element/clear", new stdClass());
    }

    public function type(string $element, string $text): void
    {
        $this->command('POST', "element/$element/value", ['text' => $text]);
    }

    public function execute(string $script, array $args = []): mixed
    {
        return $this->command('POST', 'execute/sync', ['script' => $script, 'args' => $args]);
    }

    /** Logs in through wp-login.php's form and waits for the admin bar. */
    public function logIn(string $login, string $password): void
    {
        $this->get(Env::url() . '/wp-login.php');
        $this->type($this->waitFor('#user_login'), $login);
        $this->type($this->find('#user_pass'), $password);
        $this->click($this->find('#wp-submit'));
        $this->waitFor('#wpadminbar', 30);
    }

    /** Saves a PNG of the whole viewport; returns its path. */
    public function screenshot(string $path): string
    {
        $png = base64_decode((string) $this->command('GET', 'screenshot'), true);
        if ($png === false || file_put_contents($path, $png) === false) {
            throw new RuntimeException("cannot write the screenshot $path");
        }
        return $path;
    }

    /** Waits until the document has finished loading (after a click that navigates). */
    public function waitForLoad(float $timeout = 30): void
    {
        $deadline = microtime(true) + $timeout;
        while ($this->execute('return document.readyState;') !== 'complete') {
            if (microtime(true) > $deadline) {
                throw new RuntimeException('the page did not finish loading within ' . $timeout . 's');
            }
            usleep(100000);
        }
    }

    private function command(string $method, string $path, $body = null): mixed
    {
        if ($this->session === '') {
            throw new RuntimeException('the browser session is not open');
        }
        return $this->call($method, "/session/{$this->session}/$path", $body);
    }

    private function call(string $method, string $path, $body = null, int $timeout = self::COMMAND_TIMEOUT): mixed
    {
        $handle = curl_init($this->driverUrl . $path);
        curl_setopt_array($handle, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 2,
            CURLOPT_TIMEOUT => $timeout,
            CURLOPT_PROXY => '',
            CURLOPT_HTTPHEADER => ['Content-Type: application/json; charset=utf-8'],
        ]);
        if ($body !== null) {
            curl_setopt($handle, CURLOPT_POSTFIELDS, json_encode($body, JSON_UNESCAPED_SLASHES));
        }
        $raw = curl_exec($handle);
        $error = curl_error($handle);
        curl_close($handle);
        if ($raw === false) {
            throw new RuntimeException("WebDriver $method $path failed: $error");
        }
        $answer = json_decode((string) $raw, true);
        if (!is_array($answer) || !array_key_exists('value', $answer)) {
            throw new RuntimeException("WebDriver $method $path: unexpected answer " . substr((string) $raw, 0, 500));
        }
        if (is_array($answer['value']) && isset($answer['value']['error'])) {
            throw new RuntimeException("WebDriver $method $path: {$answer['value']['error']}: " . substr((string) ($answer['value']['message'] ?? ''), 0, 800));
        }
        return $answer['value'];
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($server === false) {
            throw new RuntimeException("no free port: $errstr");
        }
        $name = stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
    }

    private static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir() . '/' . $prefix . bin2hex(random_bytes(6));
        if (!mkdir($dir, 0700)) {
            throw new RuntimeException("cannot create $dir");
        }
        return $dir;
    }
}
