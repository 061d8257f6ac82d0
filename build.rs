//! Build script: finds php-config (honouring `PHP_CONFIG`), records the PHP version the
//! extension is built against (`WPF_BRIDGE_PHP_VERSION`, shown by `php --ri wpf_bridge`), and
//! stops with a clear message when php-config or libclang is missing, before ext-php-rs's own
//! build fails with a less helpful one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PHP_CONFIG");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");

    let php_config = std::env::var("PHP_CONFIG").unwrap_or_else(|_| "php-config".to_string());
    let version = match Command::new(&php_config).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => fail(&format!(
            "cannot run `{php_config} --version`. Install PHP's development files \
             (Debian: `apt-get install php8.2-dev`, or run scripts/install-deps.sh), or set \
             PHP_CONFIG to the path of php-config."
        )),
    };
    if version.is_empty() {
        fail(&format!("`{php_config} --version` printed nothing"));
    }
    println!("cargo:rustc-env=WPF_BRIDGE_PHP_VERSION={version}");

    if !libclang_found() {
        fail(
            "libclang was not found; ext-php-rs needs it to read PHP's headers. Install it \
             (Debian: `apt-get install libclang-dev clang`, or run scripts/install-deps.sh), or \
             set LIBCLANG_PATH to the folder that holds libclang.so.",
        );
    }
}

/// Looks where clang-sys looks: LIBCLANG_PATH, then `llvm-config --libdir`, then the usual
/// Debian folders.
fn libclang_found() -> bool {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(path) = std::env::var("LIBCLANG_PATH") {
        dirs.push(PathBuf::from(path));
    }
    if let Ok(out) = Command::new("llvm-config").arg("--libdir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    for root in [
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/local/lib",
    ] {
        dirs.push(PathBuf::from(root));
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with("llvm-") {
                    dirs.push(entry.path().join("lib"));
                }
            }
        }
    }
    dirs.iter().any(|dir| has_libclang(dir))
}

fn has_libclang(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libclang") && name.contains(".so")
            })
        })
        .unwrap_or(false)
}

fn fail(message: &str) -> ! {
    eprintln!("\nwpf-bridge build error: {message}\n");
    std::process::exit(1);
}
