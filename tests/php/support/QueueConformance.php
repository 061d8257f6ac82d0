<?php
// The queue port's conformance suite, PHP side: runs the scenarios of tests/conformance/queue.json
// against a WpfBridge\Queue from an empty queue and returns what differed from the contract.
// The PHPUnit suite runs it against ArrayQueue (tests/php/QueueConformanceTest.php), the e2e
// suite against the plugin's WPF_Bridge_Queue on MariaDB (tests/e2e/QueueConformanceTest.php);
// tests/queue_conformance.rs reads the same file for the Rust in-memory queue. Plain PHP (no
// PHPUnit), so WordPress can load it.
final class QueueConformance
{
    public const FILE = __DIR__ . '/../../conformance/queue.json';

    /** @return list<array{name: string, steps: list<array<string, mixed>>}> */
    public static function scenarios(): array
    {
        return json_decode((string) file_get_contents(self::FILE), true, 512, JSON_THROW_ON_ERROR)['scenarios'];
    }

    /**
     * Runs one scenario. $advance moves the queue's clock by n seconds; $fresh, when given, is
     * called before waiting_load() so the figures are this moment's (a cached estimate is
     * allowed by the contract, but the suite compares exact totals).
     *
     * @return list<string> What differed, empty when the queue kept the contract.
     */
    public static function run(array $scenario, WpfBridge\Queue $queue, callable $advance, ?callable $fresh = null): array
    {
        $ids = [];
        $failures = [];
        foreach ($scenario['steps'] as $n => $step) {
            $where = "step $n ({$step['op']})";
            try {
                $got = self::step($step, $queue, $advance, $fresh, $ids);
            } catch (Throwable $e) {
                if (empty($step['expect_error'])) {
                    $failures[] = "$where threw " . get_class($e) . ': ' . $e->getMessage();
                    return $failures; // Later steps depend on this one.
                }
                continue;
            }
            if (!empty($step['expect_error'])) {
                $failures[] = "$where did not fail";
            } elseif ($got !== null) {
                [$expected, $actual] = $got;
                if ($expected !== $actual) {
                    $failures[] = "$where: expected " . json_encode($expected) . ', got ' . json_encode($actual);
                }
            }
        }
        return $failures;
    }

    /**
     * @param array<string, int> $ids Row names => ids.
     * @return array{0: mixed, 1: mixed}|null Expected and actual, or null when nothing is compared.
     */
    private static function step(array $step, WpfBridge\Queue $queue, callable $advance, ?callable $fresh, array &$ids): ?array
    {
        $id = static function (string $name) use (&$ids): int {
            if (!isset($ids[$name])) {
                throw new LogicException("row $name was never stored");
            }
            return $ids[$name];
        };
        switch ($step['op']) {
            case 'store':
                $rows = array_map(static fn (array $row): array => [
                    'crm' => $row['crm'], 'contact_id' => $row['contact_id'], 'data' => $row['data'],
                    'head' => $row['head'], 'delivery_key' => $row['key'],
                ], $step['rows']);
                $got = array_map('intval', $queue->store($rows));
                $expected = [];
                $actual = [];
                foreach ($step['rows'] as $i => $row) {
                    $name = $row['as'];
                    $new = !isset($ids[$name]);
                    if ($new && isset($got[$i]) && !in_array($got[$i], $ids, true)) {
                        $ids[$name] = $got[$i];
                    }
                    $expected[] = $new ? "$name (a new id)" : "$name (id {$ids[$name]})";
                    $actual[] = !isset($got[$i]) ? 'nothing' : (($ids[$name] ?? null) === $got[$i] ? $expected[$i] : "id {$got[$i]}");
                }
                return [$expected, $actual];
            case 'advance':
                $advance((int) $step['seconds']);
                return null;
            case 'due_contacts':
                $got = array_map(static fn (array $c): array => [(string) $c['crm'], (string) $c['contact_id']], $queue->due_contacts((int) $step['limit']));
                return [$step['expect'], $got];
            case 'claim':
                $rows = $queue->claim($step['crm'], $step['contact_id'], $step['token'], (int) $step['lease'], (int) $step['max_rows']);
                $expected = array_map(static fn (array $r): array => ['id' => $id($r['id'])] + $r, $step['expect']);
                $got = array_map(static fn (array $r): array => ['id' => (int) $r['id'], 'attempts' => (int) $r['attempts'], 'dead_claims' => (int) $r['dead_claims'], 'head' => (string) $r['head']], $rows);
                return [$expected, $got];
            case 'event_data':
                $data = $queue->event_data($step['token'], $id($step['id']));
                return array_key_exists('expect', $step) ? [$step['expect'], $data] : null;
            case 'complete':
                $queue->complete($step['token'], array_map($id, $step['ids']), ['contact_id' => '', 'outcome' => $step['outcome'], 'user_id' => 7]);
                return null;
            case 'retry':
                $queue->retry($step['token'], array_map($id, $step['ids']), $queue->now() + (int) $step['at'], $step['code'], $step['message']);
                return null;
            case 'fail':
                $queue->fail($step['token'], array_map($id, $step['ids']), $step['code'], $step['message']);
                return null;
            case 'count':
                return [$step['expect'], $queue->count($step['state'])];
            case 'waiting_load':
                if ($fresh !== null) {
                    $fresh();
                }
                $load = $queue->waiting_load(0);
                return [$step['expect'], ['events' => (int) $load['events'], 'bytes' => (int) $load['bytes']]];
            case 'waiting_per_contact':
                return [$step['expect'], array_map('intval', $queue->waiting_per_contact($step['crm'], $step['contact_ids']))];
            case 'rows':
                $listed = [];
                foreach ($queue->list(null, null, 1000) as $row) {
                    $listed[(int) $row['id']] = $row;
                }
                $expected = [];
                $actual = [];
                foreach ($step['expect'] as $name => $fields) {
                    $row = $listed[$id($name)] ?? [];
                    $expected[$name] = $fields;
                    $actual[$name] = [];
                    foreach ($fields as $field => $value) {
                        $have = $row[$field] ?? null;
                        $actual[$name][$field] = is_int($value) ? (int) $have : (string) $have;
                    }
                }
                return [$expected, $actual];
        }
        throw new LogicException("unknown step {$step['op']}");
    }
}
