<?php
// The running fake CRM's /_control/ API (tests/fake-crm/src/control.rs): seed contacts,
// read them back as the site's API calls left them, list the API requests it received.
final class FakeCrm
{
    public static function controlUrl(string $path): string
    {
        return rtrim(Env::get('WPF_E2E_CRM_CONTROL_URL'), '/') . '/' . ltrim($path, '/');
    }

    /** @return mixed the decoded JSON answer */
    public static function control(string $method, string $path, ?array $body = null, int $expectStatus = 200)
    {
        $response = (new Http())->request($method, self::controlUrl($path),
            $body === null ? null : json_encode($body, JSON_UNESCAPED_SLASHES), ['Content-Type' => 'application/json'], 10);
        if ($response->status !== $expectStatus) {
            throw new RuntimeException("fake CRM control $method $path answered {$response->status} (expected $expectStatus): {$response->body}");
        }
        return json_decode($response->body, true);
    }

    /** Forgets contacts, users, recorded requests and scripted answers (keeps credentials). */
    public static function reset(): void
    {
        self::control('POST', 'reset');
    }

    /** Stores a Mautic contact (the `contact` object of GET /api/contacts/{id}); returns its id. */
    public static function addMauticContact(array $contact): int
    {
        return (int) self::control('POST', 'mautic/contacts', $contact, 201)['id'];
    }

    /** Stores a User.com user (as GET users/{id}/ answers it); returns its id. */
    public static function addUserEngageUser(array $user): int
    {
        return (int) self::control('POST', 'userengage/users', $user, 201)['id'];
    }

    public static function mauticContact(int $id): array
    {
        return self::control('GET', "mautic/contacts/$id");
    }

    public static function userEngageUser(int $id): array
    {
        return self::control('GET', "userengage/users/$id");
    }

    /** @return list<array{method: string, path: string, query: string, headers: array, body: string}> */
    public static function requests(): array
    {
        return self::control('GET', 'requests');
    }

    /** The recorded requests as "METHOD path" lines, for messages. */
    public static function describe(array $requests): string
    {
        return $requests ? implode("\n", array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'] . ($r['query'] !== '' ? '?' . $r['query'] : ''), $requests)) : '(none)';
    }

    /** A Mautic contact as GET /api/contacts/{id} holds it, with fields.all and tags. */
    public static function mauticContactRecord(int $id, string $email, string $first, string $last, array $tags): array
    {
        return [
            'id' => $id,
            'fields' => ['all' => ['id' => $id, 'email' => $email, 'firstname' => $first, 'lastname' => $last]],
            'tags' => array_map(static fn (string $tag, int $i): array => ['id' => $i + 1, 'tag' => $tag], $tags, array_keys($tags)),
        ];
    }
}
