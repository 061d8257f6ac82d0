<?php
// The php-fpm pools of the e2e environment, from their status pages
// (`/fpm-status?full&json`, loopback only): which workers there are and what each is doing,
// a pool's workers under a master (by their process titles), and a SIGKILL for one of them,
// checked to be a worker of the given master first.
final class Fpm
{
    /**
     * The workers of the PHP server behind $baseUrl: pid, state (Idle, Running, Finishing...)
     * and request URI (with its query string: never print it unredacted).
     *
     * @return list<array{pid: int, state: string, uri: string}>
     */
    public static function workers(string $baseUrl): array
    {
        $response = (new Http())->get(rtrim($baseUrl, '/') . '/fpm-status?full&json');
        if ($response->status !== 200) {
            throw new RuntimeException("php-fpm's status page answered {$response->status}");
        }
        $status = $response->json();
        return array_map(static fn (array $p): array => [
            'pid' => (int) $p['pid'],
            'state' => (string) $p['state'],
            'uri' => (string) $p['request uri'],
        ], $status['processes'] ?? []);
    }

    /**
     * The pids of the workers of pool $pool under the php-fpm master $masterPid: its children
     * whose process title names that pool (`php-fpm: pool NAME`).
     *
     * @return list<int>
     */
    public static function poolWorkers(int $masterPid, string $pool): array
    {
        $children = array_map('intval', array_filter(explode("\n", (string) shell_exec('pgrep -P ' . $masterPid))));
        return array_values(array_filter($children,
            static fn (int $pid): bool => trim((string) @file_get_contents("/proc/$pid/cmdline"), "\0 ") === "php-fpm: pool $pool"));
    }

    /**
     * The worker still busy (Running, or Finishing: after fastcgi_finish_request()) with a
     * request whose URI contains $needle, or null.
     */
    public static function busyWorker(string $baseUrl, string $needle): ?int
    {
        foreach (self::workers($baseUrl) as $worker) {
            if (in_array($worker['state'], ['Running', 'Finishing'], true) && str_contains($worker['uri'], $needle)) {
                return $worker['pid'];
            }
        }
        return null;
    }

    /**
     * Sends SIGKILL (9) to worker $pid, after checking it runs php-fpm and its parent is our master
     * $masterPid (nothing else is ever signalled); returns once it is gone.
     */
    public static function kill(int $pid, int $masterPid): void
    {
        $stat = (string) @file_get_contents("/proc/$pid/stat");
        // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
        $fields = explode(' ', trim(substr($stat, (int) strrpos($stat, ')') + 2)));
        $exe = (string) @readlink("/proc/$pid/exe");
        if ($stat === '' || (int) ($fields[1] ?? 0) !== $masterPid || !str_contains(basename($exe), 'php-fpm')) {
            throw new RuntimeException("refusing to kill pid $pid: not a php-fpm worker of master $masterPid (exe '$exe')");
        }
        if (!posix_kill($pid, 9)) {
            throw new RuntimeException("kill -9 $pid failed: " . posix_strerror(posix_get_last_error()));
        }
        $deadline = microtime(true) + 10;
        while (@readlink("/proc/$pid/exe") !== false && microtime(true) < $deadline) {
            usleep(20000);
        }
    }
}
