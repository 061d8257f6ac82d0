<?php
// Many webhooks at once, as a CRM's storm sends them: curl_multi over a fixed number of
// connections, in order, every request bounded (60 s each, the whole run $timeout).
final class Load
{
    /**
     * POSTs each JSON body to its URL, at most $connections at a time, in the given order.
     *
     * @param list<array{0: string, 1: string}> $requests [url, body]
     * @return list<array{status: int, body: string, seconds: float}> in the order of $requests
     */
    public static function post(array $requests, int $connections, float $timeout = 600): array
    {
        $multi = curl_multi_init();
        $answers = [];
        $next = 0;
        $running = 0;
        $total = count($requests);
        $deadline = microtime(true) + $timeout;
        $start = static function (int $i) use ($multi, $requests): void {
            $handle = curl_init($requests[$i][0]);
            curl_setopt_array($handle, [
                CURLOPT_POST => true,
                CURLOPT_POSTFIELDS => $requests[$i][1],
                CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Expect:'],
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_CONNECTTIMEOUT => 5,
                CURLOPT_TIMEOUT => 60,
                CURLOPT_PROXY => '',
                CURLOPT_NOPROXY => '*',
                CURLOPT_PRIVATE => (string) $i,
            ]);
            curl_multi_add_handle($multi, $handle);
        };
        while ($next < $total && $next < $connections) {
            $start($next++);
        }
        do {
            curl_multi_exec($multi, $running);
            while ($info = curl_multi_info_read($multi)) {
                $handle = $info['handle'];
                $answers[(int) curl_getinfo($handle, CURLINFO_PRIVATE)] = [
                    'status' => (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE),
                    'body' => (string) curl_multi_getcontent($handle),
                    'seconds' => (float) curl_getinfo($handle, CURLINFO_TOTAL_TIME),
                ];
                curl_multi_remove_handle($multi, $handle);
                curl_close($handle);
                if ($next < $total) {
                    $start($next++);
                }
            }
            if ($running > 0 || $next < $total) {
                curl_multi_select($multi, 0.2);
            }
        } while (($running > 0 || count($answers) < $total) && microtime(true) < $deadline);
        curl_multi_close($multi);
        if (count($answers) !== $total) {
            throw new RuntimeException(sprintf('only %d of %d requests were answered within %.0f s', count($answers), $total, $timeout));
        }
        ksort($answers);
        return array_values($answers);
    }

    /** The median of a list of numbers. */
    public static function median(array $values): float
    {
        sort($values);
        $n = count($values);
        if ($n === 0) {
            return 0.0;
        }
        return $n % 2 ? (float) $values[intdiv($n, 2)] : ($values[$n / 2 - 1] + $values[$n / 2]) / 2;
    }
}
