<?php
// Reads the payload samples in tests/fixtures/ (provenance in tests/fixtures/README.md).
final class Fixtures
{
    public static function path(string $name): string
    {
        return dirname(__DIR__, 2) . '/fixtures/' . $name;
    }

    public static function read(string $name): string
    {
        $body = file_get_contents(self::path($name));
        if ($body === false) {
            throw new RuntimeException("missing fixture $name");
        }
        return $body;
    }

    /** Every JSON webhook body we have, by name. */
    public static function webhookBodies(): array
    {
        $bodies = [];
        foreach (['mautic', 'userengage'] as $crm) {
            foreach (glob(self::path($crm) . '/*.json') as $file) {
                $bodies[$crm . '/' . basename($file)] = [$crm, file_get_contents($file)];
            }
        }
        return $bodies;
    }

    /** A request array as the plugin builds it. */
    public static function request(array $query, string $body = '', array $headers = []): array
    {
        return [
            'method' => 'POST',
            'query' => $query,
            'post' => [],
            'headers' => $headers + ['Content-Type' => 'application/json'],
            'body' => $body,
        ];
    }
}
