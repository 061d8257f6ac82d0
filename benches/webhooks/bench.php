<?php
// The driver of scripts/bench-webhooks.sh (which brings the bench site up, installs the
// floors' must-use plugin and sources env.sh first). Prints, in one run, the parts named in
// WPF_BENCH_PARTS (default all: profile,throughput,storm,latency,drain):
//   profile: where one background webhook's time goes, against the floors: sequential requests
//      through a profiling must-use plugin (wpf-bench-a-profile.php, installed for this part
//      only): wall time to the must-use plugins, to the answer and to the end, the SQL
//      statements by kind, MariaDB's statements per request, the PHP files included, opcache's
//      settings; then the CPU per request of php-fpm, MariaDB and nginx under wrk;
//   throughput: wrk against the must-use floor, the init floor, the accept path (a real
//      background webhook: Mautic payload, valid key) with php-fpm draining and again with a
//      resident worker running (`worker.php run --loop`), wrong-key requests, with the
//      ratios; and, as a diagnostic, the accept path while the bench holds the drain lease;
//   storm: Mautic updates over 16 connections with the fake CRM slowed, with php-fpm
//      draining and with a resident worker, each in two server setups: one php-fpm pool (as
//      the stack starts) and the plugin's webhook pool (php/server/, up.sh's
//      WPF_E2E_WEBHOOK_POOL=N, N = WPF_BENCH_WEBHOOK_POOL, default the shipped pool's
//      pm.max_children): accept rate, time from the last answer until
//      the last event is applied, applies, CRM API calls, lost events, contacts not at their
//      newest version, the front page's answer time (a visitor every 200 ms) during the
//      storm against idle, what competed for the CPUs while the webhooks were sent (php-fpm,
//      MariaDB, nginx, the resident worker, the load generator, the rest) and php-fpm's listen
//      queues meanwhile (requests waiting for a worker, as a visitor's does); the four front
//      page figures against one idle figure, measured first;
//   latency: the median answer time of queued contact-id webhooks with the fake CRM at 0 ms
//      and slowed, with the ratio;
//   drain: one drain (WPF_Bridge_Worker::drain in one PHP process) of stored updates of linked
//      users, one per contact: contacts applied per second, and per applied contact the SQL
//      queries, the commits (MariaDB's Handler_commit), the calls from the extension into PHP
//      and the CPU time of PHP and of MariaDB.
// Targets are printed, never enforced; the exit status is 1 only when the run itself broke
// (a non-200 answer, a lost or failed event, a queue that did not drain in time).
// Uses the e2e suite's support classes (HTTP, SQL, the fake CRM's control API).
$support = dirname(__DIR__, 2) . '/tests/e2e/support';
foreach (['Env', 'Proc', 'Http', 'Fpm', 'FakeCrm', 'WordPress', 'Load', 'QueueTable'] as $class) {
    require "$support/$class.php";
}
Env::load();

function setting(string $name, int $default): int
{
    $value = getenv($name);
    return $value !== false && ctype_digit($value) && (int) $value > 0 ? (int) $value : $default;
}
function say(string $format, ...$args): void
{
    fwrite(STDOUT, vsprintf($format, $args) . "\n");
}
function note(string $format, ...$args): void
{
    fwrite(STDERR, '[bench] ' . vsprintf($format, $args) . "\n");
}

$seconds = setting('WPF_BENCH_SECONDS', 8);
$rounds = setting('WPF_BENCH_ROUNDS', 2);
$connections = setting('WPF_BENCH_CONNECTIONS', 16);
$threads = setting('WPF_BENCH_WRK_THREADS', 2);
$contacts = setting('WPF_BENCH_STORM_CONTACTS', 1000);
$versions = setting('WPF_BENCH_STORM_VERSIONS', 10);
$crmMs = setting('WPF_BENCH_CRM_MS', 150);
$latencyRequests = setting('WPF_BENCH_LATENCY_REQUESTS', 400);
$latencyContacts = min($contacts, setting('WPF_BENCH_LATENCY_CONTACTS', 100));
$latencyConnections = setting('WPF_BENCH_LATENCY_CONNECTIONS', 8);
$drainTimeout = setting('WPF_BENCH_DRAIN_TIMEOUT', 600);
$drainContacts = min($contacts, setting('WPF_BENCH_DRAIN_CONTACTS', 1000));
$parts = array_values(array_filter(array_map('trim', explode(',', getenv('WPF_BENCH_PARTS') ?: 'profile,throughput,storm,latency,drain'))));
$want = static fn (string $part): bool => in_array($part, $parts, true);
$broken = [];
$report = []; // lines printed at the end, by part

// ---- setup: settings, users linked to contacts 1..N --------------------------------------
WordPress::configure(WordPress::fakeCrmSettings('mautic', [
    'return_password' => false,
    'return_password_field' => '',
    'processing' => 'background',
]));
$key = WordPress::accessKey();
$url = Env::url();
note('creating %d users linked to Mautic contacts 1..%d', $contacts, $contacts);
WordPress::php(<<<'PHP'
    for ( $contact = 1; $contact <= $args[0]; $contact++ ) {
        if ( get_user_by( 'login', "bench$contact" ) ) {
            continue;
        }
        $id = wp_insert_user( array( 'user_login' => "bench$contact", 'user_email' => "bench$contact@site.example", 'user_pass' => wp_generate_password( 24 ), 'first_name' => 'v0', 'role' => 'subscriber' ) );
        if ( is_wp_error( $id ) ) {
            throw new RuntimeException( $id->get_error_message() );
        }
        update_user_meta( $id, 'mautic_contact_id', (string) $contact );
    }
    return true;
    PHP, [$contacts], 900);
FakeCrm::reset();
QueueTable::reset();

/** Waits for the queue to settle (the CLI worker runs when it stalls 15 s, as system cron would). */
function settle(int $timeout, string $what, array &$broken): array
{
    $wait = QueueTable::waitUntilSettled($timeout, 15);
    if ($wait['unsettled'] > 0) {
        $broken[] = sprintf('%s: %d events still waiting after %d s', $what, $wait['unsettled'], $timeout);
    }
    return $wait;
}

// ---- helpers ---------------------------------------------------------------------------------
/** One bounded wrk run; returns requests/s, median latency in ms and the error counts. */
function wrk(string $target, int $seconds, int $connections, int $threads, int $contacts): array
{
    $script = __DIR__ . '/mautic-updates.lua';
    $argv = ['env', "WPF_BENCH_CONTACTS=$contacts", "WPF_BENCH_WRK_THREADS=$threads",
        'wrk', '-t', (string) $threads, '-c', (string) $connections, '-d', "{$seconds}s", '--timeout', '10s', '--latency', '-s', $script, $target];
    [$exit, $out, $err] = Proc::run($argv, $seconds + 60);
    if ($exit !== 0 || !preg_match('/Requests\/sec:\s+([\d.]+)/', $out, $rps)) {
        throw new RuntimeException("wrk failed (exit $exit): $err\n" . Http::redact($out));
    }
    preg_match('/^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m', $out, $p50);
    $scale = ['us' => 0.001, 'ms' => 1.0, 's' => 1000.0];
    preg_match('/(\d+) requests in/', $out, $total);
    preg_match('/Non-2xx or 3xx responses: (\d+)/', $out, $non2xx);
    preg_match('/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/', $out, $socket);
    return [
        'rps' => (float) $rps[1],
        'p50_ms' => isset($p50[1]) ? (float) $p50[1] * $scale[$p50[2]] : NAN,
        'requests' => (int) ($total[1] ?? 0),
        'non2xx' => (int) ($non2xx[1] ?? 0),
        'socket_errors' => $socket ? array_sum(array_slice(array_map('intval', $socket), 1)) : 0,
    ];
}

/** Drains with the CLI worker until nothing waits (after a run that held the lease). */
function drainNow(int $timeout): array
{
    $started = microtime(true);
    $runs = 0;
    while (QueueTable::unsettled() > 0 && microtime(true) - $started < $timeout) {
        QueueTable::runWorker('run');
        $runs++;
    }
    return ['seconds' => microtime(true) - $started, 'worker_runs' => $runs, 'unsettled' => QueueTable::unsettled()];
}

/** The value at quantile $q (0..1) of a list of numbers. */
function quantile(array $values, float $q): float
{
    if ($values === []) {
        return NAN;
    }
    sort($values);
    return (float) $values[min(count($values) - 1, (int) floor($q * count($values)))];
}

/**
 * The resident worker (`worker.php run --loop`, as its systemd unit runs it), started and
 * waited for until its heartbeat names it. Returns [process, log file].
 */
function startResidentWorker(): array
{
    $wp = Env::get('WPF_E2E_WP_DIR');
    $log = tempnam(sys_get_temp_dir(), 'wpf-bench-worker-');
    $process = proc_open(
        ['env', 'PHP_INI_SCAN_DIR=' . Env::get('WPF_E2E_PHP_INI_SCAN_DIR'), 'php', "$wp/wp-content/plugins/wpf-bridge/bin/worker.php", 'run', '--loop', "--path=$wp"],
        [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']],
        $pipes,
    );
    $pid = (int) proc_get_status($process)['pid'];
    $deadline = microtime(true) + 30;
    while (true) {
        $rows = WordPress::query('SELECT option_value FROM ' . WordPress::table('options') . " WHERE option_name = 'wpf_bridge_worker_heartbeat'");
        $beat = $rows ? (array) unserialize($rows[0][0], ['allowed_classes' => false]) : [];
        if ((int) ($beat['pid'] ?? 0) === $pid) {
            return [$process, $log];
        }
        if (microtime(true) > $deadline || !proc_get_status($process)['running']) {
            throw new RuntimeException('the resident worker did not start: ' . file_get_contents($log));
        }
        usleep(100000);
    }
}

/** Stops the resident worker with SIGTERM (as systemd does) and waits for it. */
function stopResidentWorker(array $worker): void
{
    [$process, $log] = $worker;
    proc_terminate($process, 15);
    $deadline = microtime(true) + 60;
    while (proc_get_status($process)['running'] && microtime(true) < $deadline) {
        usleep(100000);
    }
    if (proc_get_status($process)['running']) {
        proc_terminate($process, 9);
    }
    proc_close($process);
    @unlink($log);
}

/** A visitor asking for $url every 200 ms in a child process; stop with stopVisitor(). */
function startVisitor(string $url): array
{
    $out = tempnam(sys_get_temp_dir(), 'wpf-bench-visitor-');
    $process = proc_open(['php', __DIR__ . '/sampler.php', $url, $out, '200', '900'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
    return [$process, $out];
}

/** Stops the visitor; returns its answer times (ms) and the number of failed answers. */
function stopVisitor(array $visitor): array
{
    [$process, $out] = $visitor;
    touch("$out.stop");
    $deadline = microtime(true) + 40;
    while (proc_get_status($process)['running'] && microtime(true) < $deadline) {
        usleep(50000);
    }
    proc_close($process);
    $lines = file($out, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [];
    @unlink($out);
    @unlink("$out.stop");
    $times = array_map('floatval', array_filter($lines, 'is_numeric'));
    return ['ms' => $times, 'errors' => count($lines) - count($times)];
}

/** MariaDB's CPU time so far, in seconds (utime + stime of its process). */
function mariadbCpu(): float
{
    $pid = (int) Env::get('WPF_E2E_MARIADB_PID');
    $stat = (string) @file_get_contents("/proc/$pid/stat");
    $fields = explode(' ', substr($stat, (int) strrpos($stat, ')') + 2));
    return count($fields) > 12 ? ((int) $fields[11] + (int) $fields[12]) / 100 : NAN;
}

$met = static fn (bool $ok): string => $ok ? 'met' : 'MISSED';

// The accept path must answer as queued (not applied in the request), and the floors as such.
$acceptUrl = "$url/?wpf_action=update&access_key=" . rawurlencode($key);
$probe = (new Http())->request('POST', $acceptUrl, json_encode(['mautic.lead_post_save_update' => [['contact' => ['id' => 1, 'fields' => ['core' => ['email' => ['alias' => 'email', 'value' => 'bench1@site.example']]]], 'timestamp' => gmdate('Y-m-d\TH:i:s+00:00')]]]), ['Content-Type' => 'application/json']);
if ($probe->status !== 200 || !isset($probe->json()['queued'])) {
    $broken[] = 'the accept path did not answer queued: ' . $probe->describe();
}
foreach (['mu', 'init'] as $floor) {
    $answer = (new Http())->get("$url/?wpf_floor=$floor");
    if ($answer->status !== 200 || $answer->body !== '{"success":true}') {
        $broken[] = "the $floor floor is not installed: " . $answer->describe();
    }
}
settle($drainTimeout, 'probe', $broken);
if ($broken) {
    foreach ($broken as $problem) {
        say('BROKEN: %s', $problem);
    }
    exit(1);
}

// ---- profile: where one background webhook's time goes -------------------------------------
/** CPU seconds so far (utime + stime) of the processes $pids. */
function cpuOf(array $pids): float
{
    $total = 0;
    foreach ($pids as $pid) {
        $stat = (string) @file_get_contents("/proc/$pid/stat");
        $fields = explode(' ', substr($stat, (int) strrpos($stat, ')') + 2));
        $total += count($fields) > 12 ? (int) $fields[11] + (int) $fields[12] : 0;
    }
    return $total / 100;
}

/** The child processes of $pid (php-fpm's workers, nginx's). */
function childrenOf(int $pid): array
{
    return array_map('intval', array_filter(explode("\n", (string) shell_exec('pgrep -P ' . $pid))));
}

/** MariaDB's statement counter (Questions), less the statement that reads it. */
function questions(): int
{
    return (int) WordPress::query("SHOW GLOBAL STATUS LIKE 'Questions'")[0][1];
}

/**
 * Sends $requests one at a time with the profiling must-use plugin on; returns the JSON lines
 * it wrote (one per request) and MariaDB's statements per request (connection setup included).
 */
function profileRequests(array $requests, string $out): array
{
    file_put_contents($out, '');
    $before = questions();
    foreach ($requests as [$target, $body]) {
        (new Http())->request('POST', $target, $body, ['Content-Type' => 'application/json']);
    }
    $statements = (questions() - $before - 1) / max(1, count($requests));
    usleep(300000); // the last shutdown functions write after the answer
    $lines = array_map(static fn (string $l): array => (array) json_decode($l, true), file($out, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: []);
    return [$lines, $statements];
}

/** Medians of one path's profile lines, and its statements by kind (per request). */
function profileFigures(array $lines): array
{
    $answer = $end = $mu = $sql = $sqlMs = $files = [];
    $kinds = [];
    foreach ($lines as $line) {
        $mu[] = (float) $line['mu_ms'];
        $end[] = (float) $line['end_ms'];
        $files[] = count($line['included_after']);
        $n = 0;
        $ms = 0.0;
        foreach ($line['queries'] as $query) {
            // The drain lease is asked for right after the answer has left (fastcgi_finish_request).
            if (str_contains($query['sql'], "GET_LOCK('wpf_bridge_drain_")) {
                $answer[] = (float) $query['at_ms'];
            }
            $n++;
            $ms += (float) $query['ms'];
            $kind = substr((string) preg_replace(["/'(?:[^'\\\\]|\\\\.)*'/", '/\b\d+\b/', '/\s+/'], ['?', '?', ' '], $query['sql']), 0, 90);
            $kinds[$kind] = ($kinds[$kind] ?? 0) + 1;
        }
        $sql[] = $n;
        $sqlMs[] = $ms;
    }
    $count = max(1, count($lines));
    arsort($kinds);
    return [
        'requests' => count($lines),
        'mu_ms' => Load::median($mu),
        'answer_ms' => $answer ? Load::median($answer) : NAN,
        'end_ms' => Load::median($end),
        'statements' => Load::median($sql),
        'statement_ms' => Load::median($sqlMs),
        'files' => Load::median($files),
        'kinds' => array_map(static fn (int $c): float => $c / $count, $kinds),
        'example' => $lines[count($lines) - 1] ?? [],
    ];
}

if ($want('profile')) {
    $profileRequests = setting('WPF_BENCH_PROFILE_REQUESTS', 100);
    $wpContent = Env::get('WPF_E2E_WP_DIR') . '/wp-content';
    $profiler = "$wpContent/mu-plugins/wpf-bench-a-profile.php";
    $out = "$wpContent/wpf-bench-profile.out";
    copy(__DIR__ . '/wpf-bench-a-profile.php', $profiler);
    chmod($profiler, 0644);
    touch($out);
    chmod($out, 0666);
    note('profile: %d sequential requests per path with the profiling must-use plugin', $profileRequests);
    $body = static fn (int $contact): string => json_encode(['mautic.lead_post_save_update' => [['contact' => ['id' => $contact, 'fields' => ['core' => [
        'email' => ['alias' => 'email', 'value' => "bench$contact@site.example"], 'firstname' => ['alias' => 'firstname', 'value' => "p$contact"]]], 'tags' => [['tag' => 'bench']]],
        'timestamp' => gmdate('Y-m-d\TH:i:s+00:00')]]]);
    $paths = [
        'must-use floor' => static fn (int $i): array => ["$url/?wpf_floor=mu", $body(1 + $i % $contacts)],
        'init floor' => static fn (int $i): array => ["$url/?wpf_floor=init", $body(1 + $i % $contacts)],
        // The drain lease is held: no request drains, each is only accepted.
        'accept path' => static fn (int $i): array => [$acceptUrl, $body(1 + $i % $contacts)],
    ];
    $profiles = [];
    try {
        foreach ($paths as $path => $make) {
            $lease = $path === 'accept path' ? QueueTable::holdDrainLease() : null;
            profileRequests(array_map($make, range(0, 9)), $out); // warm-up: opcache, connections
            [$lines, $statements] = profileRequests(array_map($make, range(0, $profileRequests - 1)), $out);
            $profiles[$path] = profileFigures($lines) + ['questions' => $statements];
            if ($lease) {
                $lease->close();
                drainNow($drainTimeout);
                QueueTable::reset();
            }
        }
    } finally {
        @unlink($out);
        @unlink($profiler);
    }
    // The CPU each path costs under load: wrk as in throughput, the processes' CPU meanwhile.
    $fpm = childrenOf((int) Env::get('WPF_E2E_PHP_FPM_PID'));
    $nginx = childrenOf((int) Env::get('WPF_E2E_NGINX_PID'));
    $mariadb = [(int) Env::get('WPF_E2E_MARIADB_PID')];
    $cpu = [];
    foreach (['must-use floor' => "$url/?wpf_floor=mu", 'init floor' => "$url/?wpf_floor=init", 'accept path' => $acceptUrl] as $path => $target) {
        $lease = $path === 'accept path' ? QueueTable::holdDrainLease() : null;
        $before = [cpuOf($fpm), cpuOf($mariadb), cpuOf($nginx)];
        $run = wrk($target, min($seconds, 5), $connections, $threads, $contacts);
        $after = [cpuOf($fpm), cpuOf($mariadb), cpuOf($nginx)];
        $n = max(1, $run['requests']);
        $cpu[$path] = ['rps' => $run['rps'], 'fpm' => 1000 * ($after[0] - $before[0]) / $n, 'db' => 1000 * ($after[1] - $before[1]) / $n, 'nginx' => 1000 * ($after[2] - $before[2]) / $n];
        if ($lease) {
            $lease->close();
            drainNow($drainTimeout);
            QueueTable::reset();
        }
    }
    $report[] = sprintf('-- profile: %d sequential requests per path (medians; the accept path with the drain lease held, so none drains), then wrk %d s each for the CPU', $profileRequests, min($seconds, 5));
    $report[] = sprintf('%-15s %13s %14s %9s %22s %22s %11s', 'path', 'to mu-plugins', 'answer sent', 'to end', 'SQL after mu-plugins', 'MariaDB statements', 'PHP files');
    foreach ($profiles as $path => $p) {
        $report[] = sprintf('%-15s %10.2f ms %11s %6.2f ms %9d (%5.2f ms) %22.1f %11d', $path, $p['mu_ms'], is_nan($p['answer_ms']) ? '-' : sprintf('%.2f ms', $p['answer_ms']), $p['end_ms'], $p['statements'], $p['statement_ms'], $p['questions'], $p['files']);
    }
    $report[] = '(answer sent: when the accept path asks for the drain lease, right after fastcgi_finish_request; MariaDB statements: its Questions counter per request, connection setup included; PHP files: included after the must-use plugins started)';
    $report[] = 'accept path, SQL per request after the must-use plugins:';
    foreach ($profiles['accept path']['kinds'] as $kind => $perRequest) {
        $report[] = sprintf('  %5.2f  %s', $perRequest, $kind);
    }
    $example = $profiles['accept path']['example'];
    $report[] = 'accept path, PHP files included: ' . implode(' ', array_map('basename', $example['included_after'] ?? []));
    $report[] = sprintf('opcache: %s, validate_timestamps=%s, revalidate_freq=%s (Debian: on, 1, 2); peak memory %d KiB',
        !empty($example['opcache']['enabled']) ? 'on' : 'off', $example['opcache']['validate_timestamps'] ?? '?', $example['opcache']['revalidate_freq'] ?? '?', $example['peak_kib'] ?? 0);
    foreach ($cpu as $path => $c) {
        $report[] = sprintf('CPU under load  %-15s %5.0f req/s; per request: php-fpm %.2f ms, MariaDB %.2f ms, nginx %.2f ms', $path, $c['rps'], $c['fpm'], $c['db'], $c['nginx']);
    }
}

// ---- throughput: floors, the accept path, refusals -----------------------------------------
if ($want('throughput')) {
    $targets = [
        'mu' => "$url/?wpf_floor=mu",
        'init' => "$url/?wpf_floor=init",
        'accept' => $acceptUrl,
        // The same webhooks while a resident worker runs (it holds the drain lease).
        'resident' => $acceptUrl,
        // Refused requests: the same bodies with a wrong key (403 invalid_access_key).
        'refused' => "$url/?wpf_action=update&access_key=wrong-key-of-the-bench",
        // Diagnostic, not a target: the bench holds the drain lease, so no request drains;
        // accept minus held is what the draining worker costs the others.
        'held' => $acceptUrl,
    ];
    $results = array_fill_keys(array_keys($targets), []);
    $acceptDrains = [];
    note('throughput: %d round(s) of %d s per target, wrk %d threads, %d connections', $rounds, $seconds, $threads, $connections);
    for ($round = 1; $round <= $rounds; $round++) {
        foreach ($targets as $name => $target) {
            $queued = in_array($name, ['accept', 'resident', 'held'], true);
            $lease = $name === 'held' ? QueueTable::holdDrainLease() : null;
            $worker = $name === 'resident' ? startResidentWorker() : null;
            wrk($target, 2, $connections, $threads, $contacts); // warm-up, not counted
            if ($queued) {
                $name === 'held' ? drainNow($drainTimeout) : settle($drainTimeout, "$name warm-up", $broken);
                QueueTable::reset();
            }
            $run = wrk($target, $seconds, $connections, $threads, $contacts);
            $results[$name][] = $run;
            if ($lease) {
                $lease->close();
            }
            if (($name !== 'refused' && $run['non2xx'] > 0) || $run['socket_errors'] > 0) {
                $broken[] = sprintf('%s round %d: %d non-2xx answers, %d socket errors', $name, $round, $run['non2xx'], $run['socket_errors']);
            }
            if ($name === 'refused' && $run['non2xx'] !== $run['requests']) {
                $broken[] = sprintf('refused round %d: %d of %d answers were not refused', $round, $run['requests'] - $run['non2xx'], $run['requests']);
            }
            if ($queued) {
                // Let the queue drain before the next measurement, and check nothing was lost.
                $wait = $name === 'held' ? drainNow($drainTimeout) : settle($drainTimeout, "$name round $round", $broken);
                $counts = QueueTable::counts();
                $acceptDrains[] = sprintf('%s round %d: %d events stored (wrk counted %d answers), drained %.1f s after the run (%d CLI worker runs): %s', $name, $round, array_sum($counts), $run['requests'], $wait['seconds'], $wait['worker_runs'], json_encode($counts));
                if ($wait['unsettled'] > 0 || array_sum($counts) < $run['requests'] || ($counts['failed'] ?? 0) > 0) {
                    $broken[] = end($acceptDrains);
                }
                QueueTable::reset();
            }
            if ($worker) {
                stopResidentWorker($worker);
            }
            note('%-8s round %d: %7.0f req/s, median %.1f ms', $name, $round, $run['rps'], $run['p50_ms']);
        }
    }
    $best = [];
    foreach ($results as $name => $runs) {
        usort($runs, static fn (array $a, array $b): int => $b['rps'] <=> $a['rps']);
        $best[$name] = $runs[0];
    }
    $labels = [
        'mu' => 'must-use plugin floor (?wpf_floor=mu)',
        'init' => 'plugin on init floor (?wpf_floor=init)',
        'accept' => 'accept path (background update, Mautic)',
        'resident' => 'accept path, resident worker running',
        'refused' => 'wrong-key requests (403)',
        'held' => 'diagnostic: accept path, drain lease held',
    ];
    $report[] = sprintf('-- throughput: wrk, %d threads, %d connections, %d s per run, %d round(s) (best round)', $threads, $connections, $seconds, $rounds);
    foreach ($results as $name => $runs) {
        $report[] = sprintf('%-42s %7.0f req/s  median %6.1f ms   rounds: %s', $labels[$name], $best[$name]['rps'], $best[$name]['p50_ms'],
            implode(', ', array_map(static fn (array $r): string => sprintf('%.0f', $r['rps']), $runs)));
    }
    $ratio = static fn (string $a, string $b): float => $best[$a]['rps'] / max(1e-9, $best[$b]['rps']);
    foreach (['accept' => 'php-fpm drains', 'resident' => 'resident worker'] as $name => $what) {
        $report[] = sprintf('%-8s / init  %.2fx (target >= 2: %s); / mu %.2fx (target >= 0.75: %s)   [%s]', $name, $ratio($name, 'init'), $met($ratio($name, 'init') >= 2), $ratio($name, 'mu'), $met($ratio($name, 'mu') >= 0.75), $what);
    }
    $report[] = sprintf('refused / accept %.2fx (target >= 1: %s)', $ratio('refused', 'accept'), $met($ratio('refused', 'accept') >= 1));
    $report[] = sprintf('diagnostic: held / mu %.2fx, held / init %.2fx (no request drained during that run)', $ratio('held', 'mu'), $ratio('held', 'init'));
    array_push($report, ...$acceptDrains);
}

// ---- storm: php-fpm draining, then a resident worker; the front page meanwhile --------------
/** Sends the storm's updates (versions newer than $base) and waits until they are applied. */
/** The whole machine's busy CPU seconds so far (/proc/stat: all but idle and iowait). */
function machineCpu(): float
{
    $fields = array_map('intval', array_slice(preg_split('/\s+/', trim((string) strtok((string) file_get_contents('/proc/stat'), "\n"))), 1, 8));
    return (array_sum($fields) - $fields[3] - $fields[4]) / 100;
}

/** The workers of the stack's php-fpm master that serve pool $pool. */
function poolWorkers(string $pool): array
{
    return Fpm::poolWorkers((int) Env::get('WPF_E2E_PHP_FPM_PID'), $pool);
}

/** CPU seconds so far of what competes during a storm: php-fpm (the site's pool, the webhook pool), MariaDB, nginx, the resident worker, this process (the load), the machine. */
function stormCpu(int $workerPid): array
{
    $self = getrusage();
    return [
        'php-fpm' => cpuOf(poolWorkers('wpf-e2e')),
        'php-fpm webhook pool' => cpuOf(poolWorkers('wpf-bridge-webhooks')),
        'MariaDB' => cpuOf([(int) Env::get('WPF_E2E_MARIADB_PID')]),
        'nginx' => cpuOf(childrenOf((int) Env::get('WPF_E2E_NGINX_PID'))),
        'resident worker' => $workerPid > 0 ? cpuOf([$workerPid]) : 0.0,
        'load generator' => $self['ru_utime.tv_sec'] + $self['ru_utime.tv_usec'] / 1e6 + $self['ru_stime.tv_sec'] + $self['ru_stime.tv_usec'] / 1e6,
        'machine' => machineCpu(),
    ];
}

/**
 * Samples php-fpm's listen queue (requests accepted by the socket, waiting for a free worker:
 * `ss`'s Recv-Q) every 200 ms in a child process; stop with stopQueueSampler().
 */
function startQueueSampler(string $socket): array
{
    $out = tempnam(sys_get_temp_dir(), 'wpf-bench-fpmq-');
    $loop = 'while [ ! -e "$1.stop" ]; do ss -xlH src "$2" | awk \'{ print $3 }\'; sleep 0.2; done >"$1"';
    $process = proc_open(['bash', '-c', $loop, 'sampler', $out, $socket], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
    return [$process, $out];
}

/** Stops the listen queue sampler; returns the queue lengths it saw. */
function stopQueueSampler(array $sampler): array
{
    [$process, $out] = $sampler;
    touch("$out.stop");
    proc_close($process);
    $lengths = array_map('intval', array_filter(file($out, FILE_IGNORE_NEW_LINES) ?: [], 'is_numeric'));
    @unlink($out);
    @unlink("$out.stop");
    return $lengths;
}

function storm(string $label, int $base, int $contacts, int $versions, int $connections, int $crmMs, int $timeout, string $url, string $key, array &$broken, int $workerPid = 0): array
{
    QueueTable::reset();
    FakeCrm::reset();
    FakeCrm::control('POST', 'delay', ['ms' => $crmMs, 'count' => 10000]);
    mt_srand(10);
    $requests = [];
    $webhook = "$url/?wpf_action=update&access_key=" . rawurlencode($key);
    for ($contact = 1; $contact <= $contacts; $contact++) {
        $order = range(1, $versions);
        shuffle($order);
        foreach ($order as $v) {
            $requests[] = [$webhook, json_encode(['mautic.lead_post_save_update' => [[
                'contact' => ['id' => $contact, 'fields' => ['core' => [
                    'email' => ['alias' => 'email', 'value' => "bench$contact@site.example"],
                    'firstname' => ['alias' => 'firstname', 'value' => "$label$v"],
                ]], 'tags' => [['tag' => "version-$v"]]],
                'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base + $v),
            ]]])];
        }
    }
    note('storm (%s): %d updates for %d contacts over %d connections, fake CRM %d ms', $label, count($requests), $contacts, $connections, $crmMs);
    $visitor = startVisitor("$url/");
    $cpuBefore = stormCpu($workerPid);
    $webhookSocket = getenv('WPF_E2E_WEBHOOK_SOCKET') ?: '';
    $queueSamplers = [startQueueSampler(Env::get('WPF_E2E_DIR') . '/run/php-fpm.sock')];
    if ($webhookSocket !== '') {
        $queueSamplers[] = startQueueSampler($webhookSocket);
    }
    $started = microtime(true);
    $answers = Load::post($requests, $connections, 900);
    $sent = microtime(true) - $started;
    $fpmQueues = array_map('stopQueueSampler', $queueSamplers);
    $cpuAfter = stormCpu($workerPid);
    $cpu = array_map(static fn (string $k): float => $cpuAfter[$k] - $cpuBefore[$k], array_combine(array_keys($cpuAfter), array_keys($cpuAfter)));
    $ids = [];
    foreach ($answers as $answer) {
        foreach (json_decode($answer['body'], true)['queued'] ?? [] as $queued) {
            $ids[] = (int) $queued['id'];
        }
    }
    $wait = settle($timeout, "storm ($label)", $broken);
    $front = stopVisitor($visitor);
    $rows = QueueTable::rows($ids);
    $states = array_count_values(array_column($rows, 'state'));
    $figures = [
        'events' => count($requests),
        'statuses' => array_count_values(array_column($answers, 'status')),
        'sent' => $sent,
        'median_ms' => 1000 * Load::median(array_column($answers, 'seconds')),
        'wait' => $wait,
        'lost' => count($requests) - count($rows),
        'not_done' => count($rows) - ($states['done'] ?? 0),
        'stale' => (int) WordPress::query(sprintf("SELECT COUNT(*) FROM %s m JOIN %s f ON f.user_id = m.user_id AND f.meta_key = 'first_name' WHERE m.meta_key = 'mautic_contact_id' AND CAST(m.meta_value AS UNSIGNED) BETWEEN 1 AND %d AND f.meta_value <> '%s%d'",
            WordPress::table('usermeta'), WordPress::table('usermeta'), $contacts, $label, $versions))[0][0],
        'sums' => QueueTable::drainSums(),
        'crm_calls' => count(FakeCrm::requests()),
        'front' => $front,
        'cpu' => $cpu,
        'fpm_queue' => $fpmQueues[0],
        'webhook_queue' => $fpmQueues[1] ?? null,
    ];
    if ($figures['statuses'] !== [200 => count($requests)]) {
        $broken[] = "storm ($label) answers: " . json_encode($figures['statuses']);
    }
    if ($figures['lost'] > 0 || $figures['not_done'] > 0) {
        $broken[] = sprintf('storm (%s): %d events lost, %d not done (%s)', $label, $figures['lost'], $figures['not_done'], json_encode($states));
    }
    if ($figures['stale'] > 0) {
        $broken[] = "storm ($label): {$figures['stale']} contacts not at their newest version";
    }
    return $figures;
}

/**
 * Brings the stack to the server setup of $pool (0: one php-fpm pool; N: the plugin's webhook
 * pool of N workers and its nginx routing, from php/server/): up.sh again (php-fpm and nginx
 * restart when the setup changes), env.sh read again (their pids), opcache warmed in both
 * pools (the front page and authenticated `test` webhooks, whose answers must be 200).
 */
function useWebhookPool(int $pool, string $url, string $key): void
{
    if ((int) (getenv('WPF_E2E_WEBHOOK_POOL') ?: 0) === $pool) {
        return;
    }
    note('server setup: %s', $pool ? "the webhook pool, $pool workers (up.sh, WPF_E2E_WEBHOOK_POOL=$pool)" : 'one php-fpm pool');
    Env::up(['WPF_E2E_WEBHOOK_POOL' => (string) $pool]);
    for ($i = 0; $i < 10; $i++) {
        $front = (new Http())->get("$url/");
        $test = (new Http())->request('POST', "$url/?wpf_action=test&access_key=" . rawurlencode($key), '', ['Content-Type' => 'application/json']);
        if ($front->status !== 200 || $test->status !== 200) {
            throw new RuntimeException('warming up the new server setup: ' . $front->describe() . ' / ' . $test->describe());
        }
    }
}

if ($want('storm')) {
    note('front page, idle: a visitor every 200 ms for 20 s');
    $visitor = startVisitor("$url/");
    sleep(20);
    $idle = stopVisitor($visitor);
    $storms = [];
    $base = time() + 86400; // newer than anything the throughput runs sent
    // The webhook pool's size: the shipped pool file's, unless WPF_BENCH_WEBHOOK_POOL says otherwise.
    $shippedPool = (string) file_get_contents(Env::get('WPF_E2E_WP_DIR') . '/wp-content/plugins/wpf-bridge/server/wpf-bridge-webhooks-fpm.conf');
    $webhookPool = setting('WPF_BENCH_WEBHOOK_POOL', preg_match('/^pm\.max_children\s*=\s*(\d+)/m', $shippedPool, $m) ? (int) $m[1] : 2);
    $setups = ['one pool' => 0, "webhook pool ($webhookPool workers)" => $webhookPool];
    foreach ($setups as $setup => $pool) {
        useWebhookPool($pool, $url, $key);
        $storms["$setup, php-fpm drains"] = storm($pool ? 'g' : 'f', $base + ($pool ? 2000 : 0), $contacts, $versions, $connections, $crmMs, $drainTimeout, $url, $key, $broken);
        $worker = startResidentWorker();
        try {
            $storms["$setup, resident worker"] = storm($pool ? 's' : 'r', $base + ($pool ? 3000 : 1000), $contacts, $versions, $connections, $crmMs, $drainTimeout, $url, $key, $broken, (int) proc_get_status($worker[0])['pid']);
        } finally {
            stopResidentWorker($worker);
        }
    }
    useWebhookPool(0, $url, $key); // the parts after this one run on the stack as it started
    $cpus = max(1, (int) trim((string) shell_exec('nproc')));
    $idleMedian = Load::median($idle['ms']);
    $idleP99 = quantile($idle['ms'], 0.99);
    $report[] = sprintf('-- storm: %d Mautic updates for %d contacts (%d versions each), %d connections, fake CRM %d ms', $contacts * $versions, $contacts, $versions, $connections, $crmMs);
    $report[] = sprintf('front page idle: median %.1f ms, p99 %.1f ms (%d answers, %d failed)', $idleMedian, $idleP99, count($idle['ms']), $idle['errors']);
    $muRps = isset($best) ? $best['mu']['rps'] : NAN;
    foreach ($storms as $what => $f) {
        $rate = $f['events'] / $f['sent'];
        $frontLimit = str_ends_with($what, 'resident worker') ? 1.5 : 2.0;
        $fm = Load::median($f['front']['ms']) / max(1e-9, $idleMedian);
        $fp = quantile($f['front']['ms'], 0.99) / max(1e-9, $idleP99);
        $report[] = "[$what]";
        $report[] = sprintf('answers        %s in %.1f s: %.0f webhooks/s accepted, median answer %.1f ms%s', json_encode($f['statuses']), $f['sent'], $rate, $f['median_ms'],
            is_nan($muRps) ? '' : sprintf('; %.2fx the must-use floor (target >= 0.75: %s)', $rate / $muRps, $met($rate / $muRps >= 0.75)));
        $report[] = sprintf('last applied   %.1f s after the last answer (target <= 5: %s; CLI worker runs: %d)', $f['wait']['seconds'], $met($f['wait']['seconds'] <= 5 && $f['wait']['worker_runs'] === 0), $f['wait']['worker_runs']);
        $report[] = sprintf('applies        %d for %d contacts (target <= %d: %s); %d drains, %d busy', $f['sums']['applies'], $contacts, (int) ($contacts * 1.1), $met($f['sums']['applies'] <= $contacts * 1.1), $f['sums']['drains'], $f['sums']['busy']);
        $report[] = sprintf('CRM API calls  %d (target 0: %s)', $f['crm_calls'], $met($f['crm_calls'] === 0));
        $report[] = sprintf('lost events    %d, not done %d (target 0: %s)', $f['lost'], $f['not_done'], $met($f['lost'] === 0 && $f['not_done'] === 0));
        $report[] = sprintf('not at newest  %d contacts (target 0: %s)', $f['stale'], $met($f['stale'] === 0));
        $report[] = sprintf('front page     median %.1f ms (%.2fx idle), p99 %.1f ms (%.2fx idle), %d answers, %d failed (target each <= %.1fx: %s)',
            Load::median($f['front']['ms']), $fm, quantile($f['front']['ms'], 0.99), $fp, count($f['front']['ms']), $f['front']['errors'], $frontLimit, $met($fm <= $frontLimit && $fp <= $frontLimit));
        // What competed for the CPUs while the webhooks were sent (the rest: the visitor, other processes).
        $ours = $f['cpu']['php-fpm'] + $f['cpu']['php-fpm webhook pool'] + $f['cpu']['MariaDB'] + $f['cpu']['nginx'] + $f['cpu']['resident worker'] + $f['cpu']['load generator'];
        $report[] = sprintf('CPU meanwhile  %.0f%% of %d CPUs busy: php-fpm %.1f s%s, MariaDB %.1f s, nginx %.1f s, resident worker %.1f s, load generator %.1f s, the rest %.1f s',
            100 * $f['cpu']['machine'] / max(1e-9, $f['sent'] * $cpus), $cpus, $f['cpu']['php-fpm'],
            $f['webhook_queue'] === null ? '' : sprintf(' (site pool) + %.1f s (webhook pool)', $f['cpu']['php-fpm webhook pool']),
            $f['cpu']['MariaDB'], $f['cpu']['nginx'], $f['cpu']['resident worker'], $f['cpu']['load generator'], max(0, $f['cpu']['machine'] - $ours));
        // A visitor's request waits in php-fpm's listen queue behind the requests already there.
        $report[] = sprintf('php-fpm queue  median %.0f, p90 %.0f requests waiting for one of the %s workers%s (%d samples while the webhooks were sent)',
            Load::median($f['fpm_queue']), quantile($f['fpm_queue'], 0.9), getenv('WPF_E2E_FPM_WORKERS') ?: '4', $f['webhook_queue'] === null ? '' : " of the site's pool", count($f['fpm_queue']));
        if ($f['webhook_queue'] !== null) {
            $report[] = sprintf('webhook queue  median %.0f, p90 %.0f webhooks waiting for one of the webhook pool\'s %d workers',
                Load::median($f['webhook_queue']), quantile($f['webhook_queue'], 0.9), $webhookPool);
        }
    }
}

// ---- latency: queued answer time with the CRM at 0 ms and slowed ------------------------------
if ($want('latency')) {
    $latency = [];
    foreach ([0, $crmMs] as $ms) {
        QueueTable::reset();
        FakeCrm::reset();
        $records = [];
        for ($contact = 1; $contact <= $latencyContacts; $contact++) {
            $records[] = FakeCrm::mauticContactRecord($contact, "bench$contact@site.example", "c$ms", 'Bench', ['bench']);
        }
        FakeCrm::control('POST', 'seed', ['mautic' => $records]);
        if ($ms > 0) {
            FakeCrm::control('POST', 'delay', ['ms' => $ms, 'count' => 10000]);
        }
        $requests = [];
        for ($i = 0; $i < $latencyRequests; $i++) {
            $requests[] = ["$url/?wpf_action=add&contact_id=" . (1 + $i % $latencyContacts) . '&access_key=' . rawurlencode($key), ''];
        }
        note('answer time: %d contact-id adds for %d contacts over %d connections, fake CRM %d ms', $latencyRequests, $latencyContacts, $latencyConnections, $ms);
        $answers = Load::post($requests, $latencyConnections, 900);
        $statuses = array_count_values(array_column($answers, 'status'));
        $queued = count(array_filter($answers, static fn (array $a): bool => isset(json_decode($a['body'], true)['queued'])));
        // One copy per delivery: a repeat of a contact-id add whose copy still waits is answered
        // with that copy's id and stores nothing; every distinct id must end done.
        $stored = [];
        foreach ($answers as $answer) {
            foreach (json_decode($answer['body'], true)['queued'] ?? [] as $q) {
                $stored[(int) $q['id']] = true;
            }
        }
        $wait = settle($drainTimeout, "answer time at $ms ms", $broken);
        $counts = QueueTable::counts();
        $latency[$ms] = [
            'median_ms' => 1000 * Load::median(array_column($answers, 'seconds')),
            'drained_s' => $wait['seconds'],
            'crm_calls' => count(FakeCrm::requests()),
            'stored' => count($stored),
        ];
        if ($statuses !== [200 => $latencyRequests] || $queued !== $latencyRequests) {
            $broken[] = "answer time at $ms ms: answers " . json_encode($statuses) . ", $queued queued";
        }
        if ($counts !== ['done' => count($stored)]) {
            $broken[] = "answer time at $ms ms: events " . json_encode($counts) . ' for ' . count($stored) . ' distinct queued ids';
        }
    }
    $report[] = sprintf('-- queued answer time: %d contact-id adds for %d contacts over %d connections (each apply loads the contact from the CRM)', $latencyRequests, $latencyContacts, $latencyConnections);
    foreach ($latency as $ms => $figures) {
        $report[] = sprintf('fake CRM %3d ms  median answer %6.1f ms; %d events stored (repeats of a waiting delivery share its row); drained %.1f s after the last answer, %d CRM calls', $ms, $figures['median_ms'], $figures['stored'], $figures['drained_s'], $figures['crm_calls']);
    }
    $moved = $latency[$crmMs]['median_ms'] / max(1e-9, $latency[0]['median_ms']) - 1;
    $report[] = sprintf('moved          %+.0f%% (target: less than +20%%: %s)', 100 * $moved, $met($moved < 0.2));
}

// ---- drain: what one drain costs per applied contact --------------------------------------------
if ($want('drain')) {
    QueueTable::reset();
    FakeCrm::reset();
    // Stored while the bench holds the drain lease, so no request and no tick drains them; the
    // drain below runs in one PHP process (as the CLI worker does) while the lease stays held.
    $lease = QueueTable::holdDrainLease();
    $base = time() + 3 * 86400;
    $requests = [];
    for ($contact = 1; $contact <= $drainContacts; $contact++) {
        $requests[] = [$acceptUrl, json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => "bench$contact@site.example"],
                'firstname' => ['alias' => 'firstname', 'value' => 'drained'],
                'lastname' => ['alias' => 'lastname', 'value' => "L$contact"],
            ]], 'tags' => [['tag' => 'drained'], ['tag' => "t$contact"]]],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base),
        ]]])];
    }
    note('drain: %d stored updates of linked users, one per contact, then one drain', $drainContacts);
    $answers = Load::post($requests, $connections, 900);
    if (array_count_values(array_column($answers, 'status')) !== [200 => $drainContacts]) {
        $broken[] = 'drain: the updates were not all accepted';
    }
    $cpuBefore = mariadbCpu();
    $figures = WordPress::php(<<<'PHP'
        global $wpdb;
        $status = static function () use ($wpdb): array {
            $rows = $wpdb->get_results( "SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_commit', 'Com_commit', 'Innodb_log_writes')", ARRAY_N );
            return array_column( $rows, 1, 0 );
        };
        $before  = $status();
        $queries = $wpdb->num_queries;
        $usage   = getrusage();
        $started = microtime( true );
        $report  = WPF_Bridge_Worker::drain( 900, 1000000 );
        $seconds = microtime( true ) - $started;
        $after   = getrusage();
        $cpu     = static fn ( array $u ): float => $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
        $queries = $wpdb->num_queries - $queries;
        $end     = $status();
        return array(
            'report'  => $report,
            'seconds' => $seconds,
            'queries' => $queries,
            'php_cpu' => $cpu( $after ) - $cpu( $usage ),
            'status'  => array_map( static fn ( $k ) => (int) $end[ $k ] - (int) $before[ $k ], array_combine( array_keys( $end ), array_keys( $end ) ) ),
        );
        PHP, [], 1000);
    $dbCpu = mariadbCpu() - $cpuBefore;
    $lease->close();
    $applies = max(1, (int) $figures['report']['applies']);
    $stale = (int) WordPress::query(sprintf("SELECT COUNT(*) FROM %s m JOIN %s f ON f.user_id = m.user_id AND f.meta_key = 'first_name' WHERE m.meta_key = 'mautic_contact_id' AND CAST(m.meta_value AS UNSIGNED) BETWEEN 1 AND %d AND f.meta_value <> 'drained'",
        WordPress::table('usermeta'), WordPress::table('usermeta'), $drainContacts))[0][0];
    $counts = QueueTable::counts();
    if ($counts !== ['done' => $drainContacts] || $stale > 0) {
        $broken[] = sprintf('drain: events %s, %d users not updated', json_encode($counts), $stale);
    }
    $report[] = sprintf('-- drain: one drain in one PHP process of %d stored updates of linked users (one per contact, no CRM call)', $drainContacts);
    $report[] = sprintf('drained        %d contacts, %d applies in %.1f s: %.0f contacts/s', $figures['report']['contacts'], $figures['report']['applies'], $figures['seconds'], $figures['report']['contacts'] / max(1e-9, $figures['seconds']));
    $report[] = sprintf('per apply      %.1f SQL queries, %.1f commits (Handler_commit; %.1f COMMIT statements, %.1f redo log writes), %s calls into PHP, %.2f ms PHP CPU, %.2f ms MariaDB CPU',
        $figures['queries'] / $applies, $figures['status']['Handler_commit'] / $applies, $figures['status']['Com_commit'] / $applies, $figures['status']['Innodb_log_writes'] / $applies,
        isset($figures['report']['adapter_calls']) ? sprintf('%.1f', $figures['report']['adapter_calls'] / $applies) : 'n/a',
        1000 * $figures['php_cpu'] / $applies, 1000 * $dbCpu / $applies);
}

// ---- report ------------------------------------------------------------------------------------
say('');
say('== wpf-bridge webhook benchmark: WordPress %s, %s php-fpm workers, %d CPUs, %s, parts: %s',
    Env::get('WPF_E2E_WP_VERSION'), getenv('WPF_E2E_FPM_WORKERS') ?: '4', (int) trim((string) shell_exec('nproc')), gmdate('Y-m-d H:i') . ' UTC', implode(',', $parts));
foreach ($report as $line) {
    say('%s', $line);
}
if ($broken) {
    say('');
    foreach ($broken as $problem) {
        say('BROKEN: %s', $problem);
    }
    exit(1);
}
