<?php
// A queue adapter in plain PHP arrays, implementing WpfBridge\Queue as WPF_Bridge_Queue does,
// with the semantics src/queue/port.rs asks for (one write per store, one row per delivery key
// while it waits unclaimed, token claims under a lease, settling guarded by the token, nothing
// deleted, the waiting totals and per-contact counts), which the conformance suite
// (tests/conformance/queue.json) holds it to. Its clock moves only when a test
// moves it. It lets the suite drive wpf_bridge_handle_queued() and wpf_bridge_drain() from PHP
// without WordPress; the e2e suite runs the same functions against the real table.
final class ArrayQueue implements WpfBridge\Queue
{
    public array $rows = [];
    public int $clock;
    public int $writes = 0;
    public ?string $failOn = null;
    /** Method => how many times it was called. */
    public array $calls = [];

    public function __construct(int $clock = 1_700_000_000)
    {
        $this->clock = $clock;
    }

    private function enter(string $method): void
    {
        $this->calls[$method] = ($this->calls[$method] ?? 0) + 1;
        if ($this->failOn === $method) {
            throw new RuntimeException("$method failed on purpose");
        }
    }

    private function due(array $row): bool
    {
        return match ($row['state']) {
            'pending', 'retrying' => $row['due_at'] <= $this->clock,
            'claimed' => $row['lease_until'] <= $this->clock,
            default => false,
        };
    }

    public function now(): int
    {
        $this->enter('now');
        return $this->clock;
    }

    public function store(array $rows): array
    {
        $this->enter('store');
        $ids = [];
        $wrote = false;
        foreach ($rows as $new) {
            $key = (string) ($new['delivery_key'] ?? '');
            foreach ($this->rows as $row) {
                if ($key !== '' && $row['delivery_open'] && $row['delivery_key'] === $key) {
                    $ids[] = $row['id'];
                    continue 2;
                }
            }
            $id = count($this->rows) + 1;
            $this->rows[$id] = [
                'id' => $id, 'crm' => $new['crm'], 'contact_id' => $new['contact_id'], 'data' => $new['data'],
                'head' => $new['head'], 'state' => 'pending', 'attempts' => 0, 'dead_claims' => 0, 'due_at' => $this->clock, 'token' => '', 'lease_until' => 0,
                'accepted_at' => $this->clock, 'outcome' => '', 'error_code' => '', 'error_message' => '',
                'delivery_key' => $key, 'delivery_open' => true,
            ];
            $ids[] = $id;
            $wrote = true;
        }
        if ($wrote) {
            $this->writes++;
        }
        return $ids;
    }

    private static function waiting(array $row): bool
    {
        return in_array($row['state'], ['pending', 'claimed', 'retrying'], true);
    }

    public function waiting_load(int $max_age): array
    {
        $this->enter('waiting_load');
        $waiting = array_filter($this->rows, [self::class, 'waiting']);
        return ['events' => count($waiting), 'bytes' => array_sum(array_map(static fn (array $row): int => strlen($row['data']), $waiting))];
    }

    public function waiting_per_contact(string $crm, array $contact_ids): array
    {
        $this->enter('waiting_per_contact');
        return array_map(fn ($id): int => count(array_filter($this->rows, static fn (array $row): bool => self::waiting($row) && $row['crm'] === $crm && $row['contact_id'] === (string) $id)), $contact_ids);
    }

    public function due_contacts(int $limit): array
    {
        $this->enter('due_contacts');
        $keys = [];
        foreach ($this->rows as $row) {
            $key = ['crm' => $row['crm'], 'contact_id' => $row['contact_id']];
            if (count($keys) < $limit && $this->due($row) && !in_array($key, $keys, true)) {
                $keys[] = $key;
            }
        }
        return $keys;
    }

    public function claim(string $crm, string $contact_id, string $token, int $lease_seconds, int $max_rows): array
    {
        $this->enter('claim');
        $claimed = [];
        foreach ($this->rows as $id => $row) {
            if (count($claimed) < $max_rows && $row['crm'] === $crm && $row['contact_id'] === $contact_id && $this->due($row)) {
                $dead = $row['dead_claims'] + ($row['state'] === 'claimed' ? 1 : 0);
                $this->rows[$id] = ['state' => 'claimed', 'token' => $token, 'lease_until' => $this->clock + $lease_seconds, 'attempts' => $row['attempts'] + 1, 'dead_claims' => $dead, 'delivery_open' => false] + $row;
                $claimed[] = ['id' => $id, 'attempts' => $row['attempts'] + 1, 'dead_claims' => $dead, 'head' => $row['head']];
            }
        }
        return $claimed;
    }

    public function event_data(string $token, int $id): string
    {
        $this->enter('event_data');
        $row = $this->rows[$id] ?? null;
        if ($row === null || $row['state'] !== 'claimed' || $row['token'] !== $token) {
            throw new RuntimeException("event $id is not claimed under this token");
        }
        return $row['data'];
    }

    private function settle(string $token, array $ids, array $changes): void
    {
        foreach ($ids as $id) {
            $row = $this->rows[$id] ?? null;
            if ($row !== null && $row['state'] === 'claimed' && $row['token'] === $token) {
                $this->rows[$id] = ['token' => ''] + $changes + $row;
            }
        }
    }

    public function complete(string $token, array $ids, array $result): void
    {
        $this->enter('complete');
        $this->settle($token, $ids, ['state' => 'done', 'outcome' => (string) $result['outcome']]);
    }

    public function retry(string $token, array $ids, int $at, string $code, string $message): void
    {
        $this->enter('retry');
        $this->settle($token, $ids, ['state' => 'retrying', 'due_at' => $at, 'error_code' => $code, 'error_message' => $message]);
    }

    public function fail(string $token, array $ids, string $code, string $message): void
    {
        $this->enter('fail');
        $this->settle($token, $ids, ['state' => 'failed', 'error_code' => $code, 'error_message' => $message]);
    }

    public function count(string $state): int
    {
        $this->enter('count');
        return count(array_filter($this->rows, fn ($row) => $row['state'] === $state));
    }

    public function list(?string $state, ?string $contact_id, int $limit): array
    {
        $this->enter('list');
        $rows = array_filter(array_reverse($this->rows), fn ($row) => ($state === null || $row['state'] === $state) && ($contact_id === null || $row['contact_id'] === $contact_id));
        return array_slice(array_map(fn ($row) => array_diff_key($row, ['data' => 1, 'head' => 1, 'dead_claims' => 1, 'token' => 1, 'lease_until' => 1]), array_values($rows)), 0, $limit);
    }

    /** States by id. */
    public function states(): array
    {
        return array_column($this->rows, 'state', 'id');
    }
}
