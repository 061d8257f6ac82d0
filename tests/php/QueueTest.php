<?php
// wpf_bridge_handle_queued() and wpf_bridge_drain() from PHP, with a PHP site object and a PHP
// queue object (ArrayQueue: the port's semantics in arrays): storing, answering `queued`,
// draining with coalescing and settling, and adapters that fail or answer nonsense.
use PHPUnit\Framework\TestCase;

final class QueueTest extends TestCase
{
    private const KEY = 'php-suite-access-key-0001';
    private static FakeCrmProcess $crm;

    public static function setUpBeforeClass(): void
    {
        self::$crm = FakeCrmProcess::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$crm->stop();
    }

    protected function setUp(): void
    {
        self::$crm->control('POST', 'reset');
    }

    private function settings(array $extra = []): array
    {
        return $extra + [
            'access_key' => self::KEY,
            'crm' => 'mautic',
            'mautic_url' => self::$crm->mauticUrl(),
            'mautic_username' => 'mautic-user',
            'mautic_password' => 'mautic-password',
            'crm_timeout' => 2,
        ];
    }

    /** A Mautic update webhook for one version of contact $id. */
    private static function update(int $id, string $first, string $stamp): string
    {
        return json_encode(['mautic.lead_post_save_update' => [[
            'contact' => ['id' => $id, 'fields' => ['core' => [
                'firstname' => ['alias' => 'firstname', 'value' => $first],
                'email' => ['alias' => 'email', 'value' => "c$id@example.org"],
            ]], 'tags' => [['tag' => "t-$first"]]],
            'timestamp' => $stamp,
        ]]]);
    }

    private function queued(ArraySite $site, ArrayQueue $queue, array $query, string $body, array $settings = []): array
    {
        $r = wpf_bridge_handle_queued(Fixtures::request($query + ['access_key' => self::KEY], $body), $this->settings($settings), $site, $queue);
        $this->assertSame(['status', 'body', 'log'], array_keys($r));
        return $r;
    }

    private function drain(ArraySite $site, ArrayQueue $queue, int $max = 100): array
    {
        return wpf_bridge_drain($this->settings(), $site, $queue, $max, 30);
    }

    public function testHandleQueuedStoresEveryEventInOneWriteAndAnswersQueued(): void
    {
        $site = new ArraySite();
        $queue = new ArrayQueue();
        $r = $this->queued($site, $queue, ['wpf_action' => 'update'], Fixtures::read('mautic/02_contact_identified_batch_of_3.wire.json'));
        $this->assertSame(200, $r['status'], json_encode($r['body']));
        $this->assertSame([true, 'update', 'mautic'], [$r['body']['success'], $r['body']['action'], $r['body']['crm']]);
        $this->assertSame(array_column($queue->rows, 'contact_id'), array_column($r['body']['queued'], 'contact_id'));
        $this->assertSame(array_keys($queue->rows), array_column($r['body']['queued'], 'id'));
        $this->assertCount(3, $queue->rows);
        $this->assertSame(1, $queue->writes, 'one durable write for the whole webhook');
        $this->assertSame(['pending'], array_values(array_unique($queue->states())));
        $this->assertNull($r['log'], 'the queue rows are the record: no log row');
        // Stored, not applied: no user was touched, the CRM was not called.
        $this->assertSame([], $site->users);
        $this->assertSame([], self::$crm->requests());
        foreach ($queue->rows as $row) {
            $this->assertStringNotContainsString(self::KEY, $row['data']);
            $this->assertStringNotContainsString('mautic-password', $row['data']);
        }
    }

    public function testTheOneEntryAnswersABackgroundWebhookAtOnceAndLeavesAnImmediateOneForTheLoadedSite(): void
    {
        $site = new ArraySite();
        $queue = new ArrayQueue();
        $request = fn (array $query, string $body) => Fixtures::request($query + ['access_key' => self::KEY], $body);

        // Background, site loaded early: stored and answered in this one call.
        $r = wpf_bridge_handle_request($request(['wpf_action' => 'update'], self::update(61, 'A', '2024-05-01T10:00:00+00:00')), $this->settings(), $site, $queue, true, false);
        $this->assertIsArray($r);
        $this->assertSame(['status', 'body', 'log', 'processing'], array_keys($r));
        $this->assertSame([200, 'background'], [$r['status'], $r['processing']]);
        $this->assertSame(['61'], array_column($r['body']['queued'], 'contact_id'));
        $this->assertNull($r['log']);
        $this->assertCount(1, $queue->rows);

        // Immediate, site loaded early: nothing stored or applied; the pending webhook is handled later.
        $pending = wpf_bridge_handle_request($request(['wpf_action' => 'update', 'async' => 'false'], self::update(62, 'B', '2024-05-01T10:00:01+00:00')), $this->settings(), $site, $queue, true, false);
        $this->assertInstanceOf(\WpfBridge\PendingWebhook::class, $pending);
        $this->assertCount(1, $queue->rows, 'a webhook left for init stored nothing');
        $this->assertSame([], $site->users);
        $this->assertSame([], self::$crm->requests());

        // Handled once the site is loaded, with the request and settings read by the first call.
        $r = $pending->handle($site, $queue);
        $this->assertSame(['status', 'body', 'log', 'processing'], array_keys($r));
        $this->assertSame([200, 'immediate'], [$r['status'], $r['processing']], json_encode($r['body']));
        $this->assertSame(['62'], array_column($r['body']['results'], 'contact_id'));
        $this->assertSame('done', $queue->rows[array_key_last($queue->rows)]['state']);
        $rows = count($queue->rows);
        try {
            $pending->handle($site, $queue);
            $this->fail('a pending webhook was handled twice');
        } catch (\WpfBridge\ConfigurationException $e) {
            $this->assertSame('invalid_argument', $e->errorCode);
        }
        $this->assertCount($rows, $queue->rows, 'the second handle() stored the events again');

        // A refusal is answered early with the extension's record, action label included.
        $r = wpf_bridge_handle_request(Fixtures::request(['wpf_action' => 'Up date!', 'access_key' => 'wrong'], '{}'), $this->settings(), $site, $queue, true, false);
        $this->assertSame(['status', 'body', 'log'], array_keys($r));
        $this->assertSame(403, $r['status']);
        $this->assertSame('update', $r['log']['action']);

        // Test and unreadable settings: test waits for the site; bad settings are refused at once.
        $this->assertInstanceOf(\WpfBridge\PendingWebhook::class, wpf_bridge_handle_request($request(['wpf_action' => 'test'], ''), $this->settings(), $site, $queue, true, false));
        $r = wpf_bridge_handle_request($request(['wpf_action' => 'update'], '{}'), ['crm' => 'nope'], $site, $queue, true, false);
        $this->assertSame('invalid_setting', $r['body']['code']);
        $this->assertTrue($r['log']['refused']);

        // With the site loaded (the default), every webhook is answered, as by handle_queued.
        $r = wpf_bridge_handle_request($request(['wpf_action' => 'test'], ''), $this->settings(), $site, $queue);
        $this->assertSame([200, 'test'], [$r['status'], $r['body']['action']]);
    }

    public function testAPendingWebhookCannotBeMadeInPhp(): void
    {
        $this->expectException(\Throwable::class);
        new \WpfBridge\PendingWebhook();
    }

    public function testARefusedRequestStoresNothing(): void
    {
        $queue = new ArrayQueue();
        $r = wpf_bridge_handle_queued(Fixtures::request(['wpf_action' => 'update', 'access_key' => 'wrong'], self::update(52, 'A', '2024-05-01T10:00:00+00:00')), $this->settings(), new ArraySite(), $queue);
        $this->assertSame(403, $r['status']);
        $this->assertSame([], $queue->rows);
        $this->assertArrayNotHasKey('store', $queue->calls);
    }

    public function testDrainCoalescesAContactsVersionsIntoOneApplyAndSettlesEach(): void
    {
        $site = new ArraySite();
        $id = $site->addUser('c52', 'c52@example.org', 'subscriber', ['mautic_contact_id' => '52']);
        $queue = new ArrayQueue();
        // Three versions arrive out of order: the newest is the second.
        foreach ([['B', '10:00:02'], ['D', '10:00:09'], ['C', '10:00:05']] as [$first, $time]) {
            $this->assertSame(200, $this->queued($site, $queue, ['wpf_action' => 'update'], self::update(52, $first, "2024-05-01T$time+00:00"))['status']);
        }
        $this->assertSame(3, $queue->writes);
        $report = $this->drain($site, $queue);
        $this->assertIsInt($report['adapter_calls'] ?? null, 'the report counts the calls into PHP');
        $this->assertGreaterThan(3, $report['adapter_calls'], 'at least the claim, the data, the settle and the settings');
        unset($report['adapter_calls']);
        $this->assertSame(['contacts' => 1, 'applies' => 1, 'done' => 3, 'retrying' => 0, 'failed' => 0, 'busy' => 0], $report);
        $this->assertSame(1, $site->committedUnits, 'the apply is one unit of work');
        $this->assertSame('D', $site->users[$id]['core']['first_name'], 'the newest version wins');
        $this->assertSame(['t-D'], $site->users[$id]['meta']['mautic_tags']);
        $this->assertSame([1 => 'done', 2 => 'done', 3 => 'done'], $queue->states());
        $this->assertSame(['updated'], array_values(array_unique(array_column($queue->rows, 'outcome'))));
        $this->assertSame([1], array_values(array_unique(array_column($queue->rows, 'attempts'))));
        $this->assertSame([], self::$crm->requests(), 'Mautic payloads need no CRM call');
        // Nothing is due any more: a second drain does nothing.
        $this->assertSame(0, $this->drain($site, $queue)['contacts']);
    }

    public function testASiteErrorIsRetriedLaterThenApplied(): void
    {
        $site = new ArraySite();
        $id = $site->addUser('c7', 'c7@example.org', 'subscriber', ['mautic_contact_id' => '7']);
        $queue = new ArrayQueue();
        $this->queued($site, $queue, ['wpf_action' => 'update'], self::update(7, 'New', '2024-05-01T10:00:00+00:00'));
        $site->failOn = 'update_user';
        $report = $this->drain($site, $queue);
        $this->assertSame([1, 0, 1], [$report['applies'], $report['done'], $report['retrying']]);
        $row = $queue->rows[1];
        $this->assertSame(['retrying', 'site_error'], [$row['state'], $row['error_code']]);
        $this->assertGreaterThan($queue->clock, $row['due_at']);
        // Not due yet: nothing happens; once due, it is applied.
        $this->assertSame(0, $this->drain($site, $queue)['contacts']);
        $site->failOn = null;
        $queue->clock = $row['due_at'];
        $this->assertSame(1, $this->drain($site, $queue)['done']);
        $this->assertSame(['done', 2], [$queue->rows[1]['state'], $queue->rows[1]['attempts']]);
        $this->assertSame('New', $site->users[$id]['core']['first_name']);
    }

    public function testAsyncFalseAppliesInTheRequest(): void
    {
        $site = new ArraySite();
        $id = $site->addUser('c9', 'c9@example.org', 'subscriber', ['mautic_contact_id' => '9']);
        $queue = new ArrayQueue();
        $r = $this->queued($site, $queue, ['wpf_action' => 'update', 'async' => 'false'], self::update(9, 'Now', '2024-05-01T10:00:00+00:00'));
        $this->assertSame(200, $r['status'], json_encode($r['body']));
        $this->assertSame(['updated', $id, 1], [$r['body']['results'][0]['outcome'], $r['body']['results'][0]['user_id'], $r['body']['results'][0]['id']]);
        $this->assertSame('Now', $site->users[$id]['core']['first_name']);
        $this->assertSame([1 => 'done'], $queue->states());
    }

    public function testAQueueThatCannotStoreIsAnsweredWithAnErrorNotACrash(): void
    {
        $queue = new ArrayQueue();
        $queue->failOn = 'store';
        $r = $this->queued(new ArraySite(), $queue, ['wpf_action' => 'update'], self::update(52, 'A', '2024-05-01T10:00:00+00:00'));
        $this->assertSame(500, $r['status'], json_encode($r['body']));
        $this->assertSame('site_error', $r['body']['code']);
        $this->assertStringContainsString('store failed on purpose', $r['body']['message']);
        $this->assertSame([], $queue->rows);
    }

    public function testAFailingQueueStopsTheDrainWithASiteException(): void
    {
        $site = new ArraySite();
        $site->addUser('c52', 'c52@example.org', 'subscriber', ['mautic_contact_id' => '52']);
        $queue = new ArrayQueue();
        $this->queued($site, $queue, ['wpf_action' => 'update'], self::update(52, 'A', '2024-05-01T10:00:00+00:00'));
        $queue->failOn = 'claim';
        try {
            $this->drain($site, $queue);
            $this->fail('a failing claim must throw');
        } catch (WpfBridge\SiteException $e) {
            $this->assertStringContainsString('claim failed on purpose', $e->getMessage());
        }
        $this->assertSame([1 => 'pending'], $queue->states(), 'nothing was changed');
    }

    public function testAQueueAnsweringNonsenseIsACleanError(): void
    {
        $site = new ArraySite();
        // WpfBridge\Queue fixes the PHP types (a now() of 'soon' cannot be declared any more);
        // what a typed method may still answer wrongly is the content of its arrays.
        $bad = new class () implements WpfBridge\Queue {
            public function now(): int { return 1_700_000_000; }
            public function store(array $rows): array { return array_fill(0, count($rows), 'an id'); }
            public function waiting_load(int $max_age): array { return ['events' => 'soon', 'bytes' => 0]; }
            public function waiting_per_contact(string $crm, array $contact_ids): array { return array_fill(0, count($contact_ids), 0); }
            public function due_contacts(int $limit): array { return [['crm' => 'No CRM!', 'contact_id' => '1']]; }
            public function claim(string $crm, string $contact_id, string $token, int $lease_seconds, int $max_rows): array { return []; }
            public function event_data(string $token, int $id): string { return ''; }
            public function complete(string $token, array $ids, array $result): void {}
            public function retry(string $token, array $ids, int $at, string $code, string $message): void {}
            public function fail(string $token, array $ids, string $code, string $message): void {}
            public function count(string $state): int { return 0; }
            public function list(?string $state, ?string $contact_id, int $limit): array { return []; }
        };
        $r = wpf_bridge_handle_queued(Fixtures::request(['wpf_action' => 'update', 'access_key' => self::KEY], self::update(52, 'A', '2024-05-01T10:00:00+00:00')), $this->settings(), $site, $bad);
        $this->assertSame(500, $r['status']);
        $this->assertStringContainsString('waiting_load() returned no events', $r['body']['message']);
        try {
            wpf_bridge_drain($this->settings(), $site, $bad, 10, 5);
            $this->fail('an unknown CRM from the queue must throw');
        } catch (WpfBridge\SiteException $e) {
            $this->assertStringContainsString('unknown CRM', $e->getMessage());
        }
        // An object that is no queue adapter fails at the call, as PHP words a type error.
        try {
            wpf_bridge_drain($this->settings(), $site, new stdClass(), 10, 5);
            $this->fail('a queue without the interface must throw');
        } catch (TypeError $e) {
            $this->assertSame('wpf_bridge_drain(): Argument #3 ($queue) must be of type WpfBridge\Queue, stdClass given', $e->getMessage());
        }
        try {
            wpf_bridge_handle_queued([], $this->settings(), $bad, new ArrayQueue());
            $this->fail('a queue given as the site must throw');
        } catch (TypeError $e) {
            $this->assertStringContainsString('Argument #3 ($site) must be of type WpfBridge\Site, WpfBridge\Queue@anonymous given', $e->getMessage());
        }
        try {
            wpf_bridge_handle_webhook([], $this->settings(), new ArrayQueue());
            $this->fail('a queue given as the site must throw');
        } catch (TypeError $e) {
            $this->assertSame('wpf_bridge_handle_webhook(): Argument #3 ($site) must be of type WpfBridge\Site, ArrayQueue given', $e->getMessage());
        }
    }

    public function testADrainAsksACallableForTheSettingsBeforeEachContact(): void
    {
        $site = new ArraySite();
        $queue = new ArrayQueue();
        foreach ([61, 62, 63] as $id) {
            $this->queued($site, $queue, ['wpf_action' => 'add'], self::update($id, 'A', '2024-05-01T10:00:00+00:00'));
        }
        $asked = 0;
        // The owner switches to User.com after the first contact.
        $settings = function () use (&$asked): array {
            $asked++;
            return $asked === 1 ? $this->settings() : $this->settings(['crm' => 'userengage', 'userengage_url' => self::$crm->userengageUrl(), 'userengage_api_key' => 'k']);
        };
        $report = wpf_bridge_drain($settings, $site, $queue, 10, 30);
        $this->assertSame(3, $asked, 'once per contact');
        $this->assertSame([1, 2], [$report['done'], $report['failed']], json_encode($report));
        $this->assertSame(['done', 'failed', 'failed'], array_values($queue->states()));
        $this->assertSame('event_from_other_crm', $queue->rows[3]['error_code']);

        foreach ([static fn () => 'not an array', static fn () => throw new RuntimeException('no database')] as $i => $bad) {
            $this->queued($site, $queue, ['wpf_action' => 'add'], self::update(70 + $i, 'A', '2024-05-01T10:00:00+00:00'));
            try {
                wpf_bridge_drain($bad, $site, $queue, 10, 5);
                $this->fail('a settings callable that fails must throw');
            } catch (WpfBridge\Exception $e) {
                $this->assertMatchesRegularExpression('/must return an array|no database/', $e->getMessage());
            }
        }
        try {
            wpf_bridge_drain('not callable', $site, $queue, 10, 5);
            $this->fail('settings that are neither an array nor a callable must throw');
        } catch (WpfBridge\Exception $e) {
            $this->assertStringContainsString('array or a callable', $e->getMessage());
        }
    }
}
