<?php
// The driver of scripts/bench-webhooks.sh (which brings the bench site up, installs the
// floors' must-use plugin and sources env.sh first). Prints, in one run:
//   1. throughput (wrk) of the must-use floor, the init floor and the accept path (a real
//      background webhook: Mautic payload, valid key), with the ratios; and, as a diagnostic,
//      the accept path while the bench holds the drain lease (no request drains);
//   2. a storm of Mautic updates over 16 connections with the fake CRM slowed: accept rate,
//      time until the queue is drained, applies, CRM API calls, lost events, contacts not at
//      their newest version;
//   3. the median answer time of queued contact-id webhooks with the fake CRM at 0 ms and
//      slowed, with the ratio.
// Targets are printed, never enforced; the exit status is 1 only when the run itself broke
// (a non-200 answer, a lost or failed event, a queue that did not drain in time).
// Uses the e2e suite's support classes (HTTP, SQL, the fake CRM's control API).
$support = dirname(__DIR__, 2) . '/tests/e2e/support';
foreach (['Env', 'Proc', 'Http', 'FakeCrm', 'WordPress', 'Load', 'QueueTable'] as $class) {
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
$broken = [];

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

// ---- 1. throughput: floors and the accept path ---------------------------------------------
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

$targets = [
    'mu' => "$url/?wpf_floor=mu",
    'init' => "$url/?wpf_floor=init",
    'accept' => "$url/?wpf_action=update&access_key=" . rawurlencode($key),
    // Diagnostic, not a target: the same webhooks while the bench holds the drain lease, so
    // no request drains; accept minus held is what the draining worker costs the others.
    'held' => "$url/?wpf_action=update&access_key=" . rawurlencode($key),
];

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
// The accept path must answer as queued (not applied in the request), and the floors as such.
$probe = (new Http())->request('POST', $targets['accept'], json_encode(['mautic.lead_post_save_update' => [['contact' => ['id' => 1, 'fields' => ['core' => ['email' => ['alias' => 'email', 'value' => 'bench1@site.example']]]], 'timestamp' => gmdate('Y-m-d\TH:i:s+00:00')]]]), ['Content-Type' => 'application/json']);
if ($probe->status !== 200 || !isset($probe->json()['queued'])) {
    $broken[] = 'the accept path did not answer queued: ' . $probe->describe();
}
foreach (['mu', 'init'] as $floor) {
    $answer = (new Http())->get($targets[$floor]);
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

$results = array_fill_keys(array_keys($targets), []);
$acceptDrains = [];
note('throughput: %d round(s) of %d s per target, wrk %d threads, %d connections', $rounds, $seconds, $threads, $connections);
for ($round = 1; $round <= $rounds; $round++) {
    foreach ($targets as $name => $target) {
        $lease = $name === 'held' ? QueueTable::holdDrainLease() : null;
        wrk($target, 2, $connections, $threads, $contacts); // warm-up, not counted
        if ($name === 'accept') {
            settle($drainTimeout, 'accept warm-up', $broken);
        }
        if ($name === 'accept' || $name === 'held') {
            QueueTable::reset();
        }
        $run = wrk($target, $seconds, $connections, $threads, $contacts);
        $results[$name][] = $run;
        if ($lease) {
            $lease->close();
        }
        if ($run['non2xx'] > 0 || $run['socket_errors'] > 0) {
            $broken[] = sprintf('%s round %d: %d non-2xx answers, %d socket errors', $name, $round, $run['non2xx'], $run['socket_errors']);
        }
        if ($name === 'accept' || $name === 'held') {
            // Let the queue drain before the next measurement, and check nothing was lost.
            $wait = $name === 'held' ? drainNow($drainTimeout) : settle($drainTimeout, "accept round $round", $broken);
            if ($wait['unsettled'] > 0) {
                $broken[] = "$name round $round: {$wait['unsettled']} events still waiting after $drainTimeout s";
            }
            $counts = QueueTable::counts();
            $acceptDrains[] = sprintf('%s round %d: %d events stored (wrk counted %d answers), drained %.1f s after the run%s: %s', $name, $round, array_sum($counts), $run['requests'], $wait['seconds'], " ({$wait['worker_runs']} CLI worker runs)", json_encode($counts));
            if (array_sum($counts) < $run['requests'] || ($counts['failed'] ?? 0) > 0) {
                $broken[] = end($acceptDrains);
            }
            QueueTable::reset();
        }
        note('%-6s round %d: %7.0f req/s, median %.1f ms', $name, $round, $run['rps'], $run['p50_ms']);
    }
}
$best = [];
foreach ($results as $name => $runs) {
    usort($runs, static fn (array $a, array $b): int => $b['rps'] <=> $a['rps']);
    $best[$name] = $runs[0];
}

// ---- 2. the storm ---------------------------------------------------------------------------
QueueTable::reset();
FakeCrm::reset();
FakeCrm::control('POST', 'delay', ['ms' => $crmMs, 'count' => 10000]);
mt_srand(10);
$requests = [];
$webhook = "$url/?wpf_action=update&access_key=" . rawurlencode($key);
$base = time() + 86400; // newer than anything the throughput runs sent
for ($contact = 1; $contact <= $contacts; $contact++) {
    $order = range(1, $versions);
    shuffle($order);
    foreach ($order as $v) {
        $requests[] = [$webhook, json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $contact, 'fields' => ['core' => [
                'email' => ['alias' => 'email', 'value' => "bench$contact@site.example"],
                'firstname' => ['alias' => 'firstname', 'value' => "v$v"],
            ]], 'tags' => [['tag' => "version-$v"]]],
            'timestamp' => gmdate('Y-m-d\TH:i:s+00:00', $base + $v),
        ]]])];
    }
}
note('storm: %d updates for %d contacts over %d connections, fake CRM %d ms', count($requests), $contacts, $connections, $crmMs);
$started = microtime(true);
$answers = Load::post($requests, $connections, 900);
$sent = microtime(true) - $started;
$stormStatuses = array_count_values(array_column($answers, 'status'));
$stormMedianMs = 1000 * Load::median(array_column($answers, 'seconds'));
$ids = [];
foreach ($answers as $answer) {
    foreach (json_decode($answer['body'], true)['queued'] ?? [] as $queued) {
        $ids[] = (int) $queued['id'];
    }
}
$wait = settle($drainTimeout, 'storm', $broken);
$drained = microtime(true) - $started;
$rows = QueueTable::rows($ids);
$states = array_count_values(array_column($rows, 'state'));
$lost = count($requests) - count($rows);
$stormWait = $wait;
$notDone = count($rows) - ($states['done'] ?? 0);
$stale = (int) WordPress::query(sprintf("SELECT COUNT(*) FROM %s m JOIN %s f ON f.user_id = m.user_id AND f.meta_key = 'first_name' WHERE m.meta_key = 'mautic_contact_id' AND CAST(m.meta_value AS UNSIGNED) BETWEEN 1 AND %d AND f.meta_value <> 'v%d'",
    WordPress::table('usermeta'), WordPress::table('usermeta'), $contacts, $versions))[0][0];
$sums = QueueTable::drainSums();
$crmCalls = count(FakeCrm::requests());
$stormEvents = count($requests);
if ($stormStatuses !== [200 => $stormEvents]) {
    $broken[] = 'storm answers: ' . json_encode($stormStatuses);
}
if ($lost > 0 || $notDone > 0) {
    $broken[] = sprintf('storm: %d events lost, %d not done (%s)', $lost, $notDone, json_encode($states));
}
if ($stale > 0) {
    $broken[] = "storm: $stale contacts not at their newest version";
}

// ---- 3. queued answer time with the CRM at 0 ms and slowed ------------------------------------
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
        'counts' => $counts,
        'stored' => count($stored),
    ];
    if ($statuses !== [200 => $latencyRequests] || $queued !== $latencyRequests) {
        $broken[] = "answer time at $ms ms: answers " . json_encode($statuses) . ", $queued queued";
    }
    if ($counts !== ['done' => count($stored)]) {
        $broken[] = "answer time at $ms ms: events " . json_encode($counts) . ' for ' . count($stored) . ' distinct queued ids';
    }
}

// ---- report ------------------------------------------------------------------------------------
$met = static fn (bool $ok): string => $ok ? 'met' : 'MISSED';
say('');
say('== wpf-bridge webhook benchmark: WordPress %s, %s php-fpm workers, %d CPUs, %s',
    Env::get('WPF_E2E_WP_VERSION'), getenv('WPF_E2E_FPM_WORKERS') ?: '4', (int) trim((string) shell_exec('nproc')), gmdate('Y-m-d H:i') . ' UTC');
say('-- throughput: wrk, %d threads, %d connections, %d s per run, %d round(s) (best round)', $threads, $connections, $seconds, $rounds);
$labels = [
    'mu' => 'must-use plugin floor (?wpf_floor=mu)',
    'init' => 'plugin on init floor (?wpf_floor=init)',
    'accept' => 'accept path (background update, Mautic)',
    'held' => 'diagnostic: accept path, drain lease held',
];
foreach ($results as $name => $runs) {
    say('%-42s %7.0f req/s  median %6.1f ms   rounds: %s', $labels[$name], $best[$name]['rps'], $best[$name]['p50_ms'],
        implode(', ', array_map(static fn (array $r): string => sprintf('%.0f', $r['rps']), $runs)));
}
$toInit = $best['accept']['rps'] / max(1e-9, $best['init']['rps']);
$toMu = $best['accept']['rps'] / max(1e-9, $best['mu']['rps']);
say('accept / init  %.2fx (target >= 2: %s)', $toInit, $met($toInit >= 2));
say('accept / mu    %.2fx (target >= 0.75: %s)', $toMu, $met($toMu >= 0.75));
say('diagnostic: held / mu %.2fx, held / init %.2fx (no request drained during that run)', $best['held']['rps'] / max(1e-9, $best['mu']['rps']), $best['held']['rps'] / max(1e-9, $best['init']['rps']));
foreach ($acceptDrains as $line) {
    say('%s', $line);
}
say('-- storm: %d Mautic updates for %d contacts (%d versions each), %d connections, fake CRM %d ms', $contacts * $versions, $contacts, $versions, $connections, $crmMs);
say('answers        %s in %.1f s: %.0f webhooks/s accepted, median answer %.1f ms', json_encode($stormStatuses), $sent, $stormEvents / $sent, $stormMedianMs);
say('drained        %.1f s after the first webhook (%.1f s after the last answer; CLI worker runs: %d)', $drained, $stormWait['seconds'], $stormWait['worker_runs']);
say('applies        %d for %d contacts (target <= %d: %s); %d drains, %d busy', $sums['applies'], $contacts, (int) ($contacts * 1.1), $met($sums['applies'] <= $contacts * 1.1), $sums['drains'], $sums['busy']);
say('CRM API calls  %d (target 0: %s)', $crmCalls, $met($crmCalls === 0));
say('lost events    %d, not done %d (target 0: %s)', $lost, $notDone, $met($lost === 0 && $notDone === 0));
say('not at newest  %d contacts (target 0: %s)', $stale, $met($stale === 0));
say('-- queued answer time: %d contact-id adds for %d contacts over %d connections (each apply loads the contact from the CRM)', $latencyRequests, $latencyContacts, $latencyConnections);
foreach ($latency as $ms => $figures) {
    say('fake CRM %3d ms  median answer %6.1f ms; %d events stored (repeats of a waiting delivery share its row); drained %.1f s after the last answer, %d CRM calls', $ms, $figures['median_ms'], $figures['stored'], $figures['drained_s'], $figures['crm_calls']);
}
$moved = $latency[$crmMs]['median_ms'] / max(1e-9, $latency[0]['median_ms']) - 1;
say('moved          %+.0f%% (target: less than +20%%: %s)', 100 * $moved, $met($moved < 0.2));
if ($broken) {
    say('');
    foreach ($broken as $problem) {
        say('BROKEN: %s', $problem);
    }
    exit(1);
}
