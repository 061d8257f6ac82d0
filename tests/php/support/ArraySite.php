<?php
// A site adapter in plain PHP arrays, with the method names and shapes the WordPress adapter
// has: it lets the suite drive wpf_bridge_handle_webhook() from PHP without WordPress.
final class ArraySite implements WpfBridge\Site
{
    public array $users = [];
    public array $logs = [];
    public array $actions = [];
    public array $notified = [];
    public array $locks = [];
    public ?string $failOn = null;
    private int $nextId = 1;

    public function addUser(string $login, string $email, string $role, array $meta = []): int
    {
        $id = $this->nextId++;
        $this->users[$id] = ['login' => $login, 'email' => $email, 'pass' => 'original', 'role' => $role, 'core' => [], 'meta' => $meta];
        return $id;
    }

    private function maybeFail(string $method): void
    {
        if ($this->failOn === $method) {
            throw new RuntimeException("$method failed on purpose");
        }
    }

    public function find_user_by_meta(string $key, string $value): ?int
    {
        foreach ($this->users as $id => $u) {
            if (isset($u['meta'][$key]) && (string) $u['meta'][$key] === $value) {
                return $id;
            }
        }
        return null;
    }

    public function find_user_by_email(string $email): ?int
    {
        foreach ($this->users as $id => $u) {
            if (strcasecmp($u['email'], $email) === 0) {
                return $id;
            }
        }
        return null;
    }

    public function user(int $id): ?array
    {
        if (!isset($this->users[$id])) {
            return null;
        }
        $u = $this->users[$id];
        $caps = ['read'];
        if ($u['role'] === 'administrator') {
            $caps[] = 'manage_options';
        }
        return ['id' => $id, 'login' => $u['login'], 'email' => $u['email'], 'roles' => [$u['role']], 'capabilities' => $caps, 'super_admin' => !empty($u['super_admin'])];
    }

    public function login_exists(string $login): bool
    {
        foreach ($this->users as $u) {
            if ($u['login'] === $login) {
                return true;
            }
        }
        return false;
    }

    public function create_user(array $user): int
    {
        $this->maybeFail('create_user');
        $id = $this->addUser($user['login'], $user['email'], $user['role'], $user['meta']);
        $this->users[$id]['pass'] = $user['password'];
        $this->users[$id]['core'] = $user['core'];
        return $id;
    }

    public function update_user(int $id, array $core): void
    {
        $this->maybeFail('update_user');
        foreach ($core as $k => $v) {
            if ($k === 'user_email') {
                $this->users[$id]['email'] = $v;
            } else {
                $this->users[$id]['core'][$k] = $v;
            }
        }
    }

    public function user_meta(int $id, string $key): mixed
    {
        return $this->users[$id]['meta'][$key] ?? null;
    }

    public function update_user_meta(int $id, string $key, $value): void
    {
        $this->users[$id]['meta'][$key] = $value;
    }

    public function delete_user_meta(int $id, string $key): void
    {
        unset($this->users[$id]['meta'][$key]);
    }

    public function roles(): array
    {
        return [
            ['slug' => 'administrator', 'name' => 'Administrator', 'capabilities' => ['read', 'manage_options']],
            ['slug' => 'editor', 'name' => 'Editor', 'capabilities' => ['read', 'unfiltered_html']],
            ['slug' => 'subscriber', 'name' => 'Subscriber', 'capabilities' => ['read']],
            ['slug' => 'customer', 'name' => 'Customer', 'capabilities' => ['read']],
        ];
    }

    public function default_role(): string
    {
        return 'subscriber';
    }

    public function set_role(int $id, string $role): void
    {
        $this->users[$id]['role'] = $role;
    }

    public function send_new_user_notification(int $id): void
    {
        $this->notified[] = $id;
    }

    public function lock(string $name, int $timeout): bool
    {
        if (isset($this->locks[$name])) {
            return false;
        }
        $this->locks[$name] = true;
        return true;
    }

    public function unlock(string $name): void
    {
        unset($this->locks[$name]);
    }

    /** Values the drain primed its contact links with (a hint this site does not need). */
    public int $primed = 0;

    public function prime_contact_links(string $key, array $values): void
    {
        $this->primed += count($values);
    }

    /** Units of work committed (the drain opens one per apply). */
    public int $committedUnits = 0;

    private bool $unitOpen = false;

    public function begin_writes(): void
    {
        $this->unitOpen = true;
    }

    public function commit_writes(): bool
    {
        if (!$this->unitOpen) {
            throw new RuntimeException('commit_writes without begin_writes');
        }
        $this->unitOpen = false;
        $this->committedUnits++;
        return true;
    }

    public function log(string $level, string $message): void
    {
        $this->logs[] = [$level, $message];
    }

    public function do_action(string $hook, array $args): void
    {
        $this->actions[] = [$hook, $args];
    }
}
