<?php
// The visitor of scripts/bench-webhooks.sh: GETs one page every INTERVAL_MS, one request at a
// time, and writes each answer time in milliseconds (or "error STATUS") as a line of OUT, until
// the file OUT.stop exists or MAX_SECONDS have passed. Bounded by construction.
//   php sampler.php URL OUT INTERVAL_MS MAX_SECONDS
[, $url, $out, $interval, $max] = $argv + [null, null, null, '200', '600'];
$deadline = microtime(true) + (float) $max;
$file = fopen($out, 'w');
while (microtime(true) < $deadline && !file_exists("$out.stop")) {
    $handle = curl_init($url);
    curl_setopt_array($handle, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30, CURLOPT_PROXY => '', CURLOPT_NOPROXY => '*']);
    $started = microtime(true);
    curl_exec($handle);
    $ms = 1000 * (microtime(true) - $started);
    $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
    curl_close($handle);
    fwrite($file, $status === 200 ? sprintf("%.1f\n", $ms) : "error $status\n");
    fflush($file);
    usleep(max(0, (int) ((int) $interval * 1000 - $ms * 1000)));
}
fclose($file);
