<?php
// The e2e environment's variables (written by tests/e2e/env/up.sh to $WPF_E2E_DIR/env.sh).
// scripts/test-e2e.sh sources env.sh before PHPUnit starts; when PHPUnit is run by hand
// without it, load() reads env.sh itself, so `phpunit -c tests/e2e/phpunit.xml` just works
// against a running environment.
final class Env
{
    public static function repo(): string
    {
        return dirname(__DIR__, 3);
    }

    /** Reads $WPF_E2E_DIR/env.sh (default .e2e/) into the process environment if needed. */
    public static function load(): void
    {
        if (getenv('WPF_E2E_URL') !== false && getenv('WPF_E2E_DIR') !== false) {
            return;
        }
        $dir = getenv('WPF_E2E_DIR') ?: self::repo() . '/.e2e';
        $file = $dir . '/env.sh';
        if (!is_readable($file)) {
            throw new RuntimeException("no e2e environment: $file is missing. Run tests/e2e/env/up.sh (or scripts/test-e2e.sh) first.");
        }
        self::export($file);
    }

    /**
     * Runs up.sh again (no --fresh) with this process's environment plus $env (php-fpm and
     * nginx restart when their configuration changes), then reads the new env.sh, but for the
     * names in $keep (values this process set on purpose).
     *
     * @param array<string, string> $env
     * @param list<string>          $keep
     */
    public static function up(array $env, array $keep = []): void
    {
        [$exit, $out, $err] = Proc::run(array_merge(['env'], array_map(static fn ($k, $v) => "$k=$v", array_keys($env), $env), [self::envScript('up.sh')]), 300);
        if ($exit !== 0) {
            throw new RuntimeException("up.sh failed (exit $exit):\n$err\n$out");
        }
        self::export(self::get('WPF_E2E_DIR') . '/env.sh', $keep);
    }

    /** Puts env.sh's variables into the process environment, but for the names in $keep. */
    private static function export(string $file, array $keep = []): void
    {
        foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
            // Lines look like: export NAME='value' (values never contain a quote: up.sh refuses them).
            if (preg_match("/^export ([A-Z0-9_]+)='([^']*)'$/", $line, $m) && !in_array($m[1], $keep, true)) {
                putenv($m[1] . '=' . $m[2]);
            }
        }
    }

    public static function get(string $name): string
    {
        $value = getenv($name);
        if ($value === false || $value === '') {
            throw new RuntimeException("$name is not set: is the e2e environment up (tests/e2e/env/up.sh)?");
        }
        return $value;
    }

    /** The site's base URL, without a trailing slash. */
    public static function url(): string
    {
        return rtrim(self::get('WPF_E2E_URL'), '/');
    }

    public static function adminPassword(): string
    {
        $password = trim((string) @file_get_contents(self::get('WPF_E2E_ADMIN_PASSWORD_FILE')));
        if ($password === '') {
            throw new RuntimeException('cannot read the admin password from ' . self::get('WPF_E2E_ADMIN_PASSWORD_FILE'));
        }
        return $password;
    }

    /** Where screenshots go: $WPF_E2E_SCREENSHOT_DIR, default $WPF_E2E_DIR/screenshots (git-ignored). */
    public static function screenshotDir(): string
    {
        $dir = getenv('WPF_E2E_SCREENSHOT_DIR') ?: self::get('WPF_E2E_DIR') . '/screenshots';
        if (!is_dir($dir) && !mkdir($dir, 0755, true) && !is_dir($dir)) {
            throw new RuntimeException("cannot create $dir");
        }
        return $dir;
    }

    /** The scripts of tests/e2e/env/ (wp.sh, mysql.sh). */
    public static function envScript(string $name): string
    {
        return self::repo() . '/tests/e2e/env/' . $name;
    }
}
