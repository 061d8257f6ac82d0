<?php
// Runs a command (an argv array, no shell) with a deadline: stdout and stderr are read
// without blocking, and a command still running at the deadline is killed (by its own pid).
final class Proc
{
    /**
     * @param list<string> $argv
     * @return array{0: int, 1: string, 2: string} exit code, stdout, stderr
     */
    public static function run(array $argv, float $timeout = 60.0, ?string $stdin = null): array
    {
        $process = proc_open($argv, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($process)) {
            throw new RuntimeException('cannot start ' . $argv[0]);
        }
        if ($stdin !== null) {
            fwrite($pipes[0], $stdin);
        }
        fclose($pipes[0]);
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $out = ['', ''];
        $deadline = microtime(true) + $timeout;
        $open = [1 => $pipes[1], 2 => $pipes[2]];
        while ($open) {
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                $status = proc_get_status($process);
                proc_terminate($process, 9);
                foreach ($open as $pipe) {
                    fclose($pipe);
                }
                proc_close($process);
                throw new RuntimeException(sprintf('%s did not finish within %.0f s (pid %d killed); output so far: %s %s',
                    implode(' ', array_map('basename', array_slice($argv, 0, 1))) . ' ' . implode(' ', array_slice($argv, 1, 2)),
                    $timeout, $status['pid'], substr($out[0], -500), substr($out[1], -500)));
            }
            $read = array_values($open);
            $write = $except = null;
            if (stream_select($read, $write, $except, (int) $left, (int) (fmod($left, 1) * 1e6)) === false) {
                break;
            }
            foreach ($open as $i => $pipe) {
                $chunk = fread($pipe, 65536);
                if ($chunk !== false && $chunk !== '') {
                    $out[$i - 1] .= $chunk;
                } elseif (feof($pipe)) {
                    fclose($pipe);
                    unset($open[$i]);
                }
            }
        }
        $code = proc_close($process);
        return [$code, $out[0], $out[1]];
    }
}
