<?php
// The queue port's conformance suite (tests/conformance/queue.json) against ArrayQueue, the
// PHPUnit suite's queue: the same scenarios run against the Rust in-memory queue
// (tests/queue_conformance.rs) and the plugin's MariaDB table (tests/e2e/QueueConformanceTest.php).
use PHPUnit\Framework\TestCase;

final class QueueConformanceTest extends TestCase
{
    /** @return array<string, array{0: array}> */
    public static function scenarios(): array
    {
        $out = [];
        foreach (QueueConformance::scenarios() as $scenario) {
            $out[$scenario['name']] = [$scenario];
        }
        return $out;
    }

    /** @dataProvider scenarios */
    public function testArrayQueueKeepsTheContract(array $scenario): void
    {
        $queue = new ArrayQueue();
        $failures = QueueConformance::run($scenario, $queue, static function (int $seconds) use ($queue): void {
            $queue->clock += $seconds;
        });
        $this->assertSame([], $failures, $scenario['name']);
    }

    public function testTheSuiteCatchesAQueueThatBreaksTheContract(): void
    {
        // ArrayQueue with the "due" rule broken: an expired lease is never claimable again.
        $broken = new class () implements WpfBridge\Queue {
            public ArrayQueue $inner;
            public function __construct() { $this->inner = new ArrayQueue(); }
            public function now(): int { return $this->inner->now(); }
            public function store(array $rows): array { return $this->inner->store($rows); }
            public function waiting_load(int $max_age): array { return $this->inner->waiting_load($max_age); }
            public function waiting_per_contact(string $crm, array $contact_ids): array { return $this->inner->waiting_per_contact($crm, $contact_ids); }
            public function due_contacts(int $limit): array
            {
                return array_values(array_filter($this->inner->due_contacts($limit), fn (array $c): bool => !in_array('claimed', array_column(array_filter($this->inner->rows, fn ($r) => $r['contact_id'] === $c['contact_id']), 'state'), true)));
            }
            public function claim(string $crm, string $contact_id, string $token, int $lease_seconds, int $max_rows): array
            {
                foreach ($this->inner->rows as $row) {
                    if ($row['crm'] === $crm && $row['contact_id'] === $contact_id && $row['state'] === 'claimed') {
                        return [];
                    }
                }
                return $this->inner->claim($crm, $contact_id, $token, $lease_seconds, $max_rows);
            }
            public function event_data(string $token, int $id): string { return $this->inner->event_data($token, $id); }
            public function complete(string $token, array $ids, array $result): void { $this->inner->complete($token, $ids, $result); }
            public function retry(string $token, array $ids, int $at, string $code, string $message): void { $this->inner->retry($token, $ids, $at, $code, $message); }
            public function fail(string $token, array $ids, string $code, string $message): void { $this->inner->fail($token, $ids, $code, $message); }
            public function count(string $state): int { return $this->inner->count($state); }
            public function list(?string $state, ?string $contact_id, int $limit): array { return $this->inner->list($state, $contact_id, $limit); }
        };
        $failed = [];
        foreach (QueueConformance::scenarios() as $scenario) {
            $queue = clone $broken;
            $queue->inner = new ArrayQueue();
            if (QueueConformance::run($scenario, $queue, static function (int $s) use ($queue): void { $queue->inner->clock += $s; }) !== []) {
                $failed[] = $scenario['name'];
            }
        }
        $this->assertContains('a claim whose lease ran out is claimable again and counts a dead claim; the overtaken worker changes nothing', $failed);
    }
}
