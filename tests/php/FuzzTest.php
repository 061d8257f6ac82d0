<?php
// Thousands of damaged payloads through every parser, inside a real PHP: each one must either
// parse or throw a WpfBridge exception; nothing else (no crash, no other error) is acceptable.
use PHPUnit\Framework\TestCase;

final class FuzzTest extends TestCase
{
    public function testMutatedAndTruncatedPayloadsParseOrThrowCleanly(): void
    {
        mt_srand(20261122);
        $parsed = 0;
        $thrown = 0;
        foreach (Fixtures::webhookBodies() as $name => [$crm, $body]) {
            foreach ($this->mutations($body) as $mutant) {
                foreach (['update', 'add', 'update_tags'] as $action) {
                    try {
                        $result = wpf_bridge_parse_webhook($crm, Fixtures::request(['wpf_action' => $action], $mutant));
                        $this->assertIsArray($result['events']);
                        $parsed++;
                    } catch (WpfBridge\Exception $e) {
                        $this->assertNotSame('', $e->errorCode, $name);
                        $thrown++;
                    }
                }
            }
        }
        // Both outcomes happen: the mutations are neither all harmless nor all fatal.
        $this->assertGreaterThan(500, $parsed);
        $this->assertGreaterThan(500, $thrown);
        fwrite(STDERR, sprintf("\n[fuzz] %d parsed, %d refused cleanly\n", $parsed, $thrown));
    }

    /** @return iterable<string> */
    private function mutations(string $body): iterable
    {
        $length = strlen($body);
        // Truncations at 150 points.
        for ($i = 0; $i < 150; $i++) {
            yield substr($body, 0, intdiv($length * $i, 150));
        }
        $bytes = ['{', '}', '[', ']', '"', ',', ':', '\\', "\0", "\xff", '1', 'null', 'true', '-'];
        for ($i = 0; $i < 150; $i++) {
            $pos = mt_rand(0, max(0, $length - 1));
            // Replace, insert, delete.
            yield substr_replace($body, $bytes[array_rand($bytes)], $pos, 1);
            yield substr_replace($body, $bytes[array_rand($bytes)], $pos, 0);
            yield substr_replace($body, '', $pos, mt_rand(1, 40));
        }
        // Type swaps on the decoded structure: every scalar and container in turn.
        $decoded = json_decode($body, true);
        if (is_array($decoded)) {
            $swaps = [null, 0, -1, 1.5, '', 'x', [], ['a' => 1], true, str_repeat('9', 40)];
            for ($i = 0; $i < 100; $i++) {
                $copy = $decoded;
                $this->swapRandom($copy, $swaps[array_rand($swaps)]);
                yield (string) json_encode($copy);
            }
        }
    }

    private function swapRandom(array &$node, $replacement, int $depth = 0): void
    {
        if ($node === [] || $depth > 12) {
            return;
        }
        $key = array_rand($node);
        if (is_array($node[$key]) && mt_rand(0, 3) > 0) {
            $this->swapRandom($node[$key], $replacement, $depth + 1);
        } else {
            $node[$key] = $replacement;
        }
    }
}
