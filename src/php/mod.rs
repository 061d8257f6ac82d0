//! Everything that touches ext-php-rs: module registration (its version and the rules as a
//! constant, read by the plugin without a call), the exposed functions, Zval
//! conversions, exception classes, the adapters' interfaces, `PhpSite` and `PhpQueue`. ext-php-rs types never leave
//! this folder; the rest of the crate sees plain Rust values.

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use crate::crm_kind::CrmKind;

mod convert;
mod exceptions;
mod functions;
mod interfaces;
mod queue;
mod site;

/// The PHP version the extension was built against (recorded by `build.rs`).
pub const BUILT_FOR_PHP: &str = env!("WPF_BRIDGE_PHP_VERSION");

/// `php --ri wpf_bridge` / `phpinfo()`.
extern "C" fn module_info(_module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("wpf_bridge support", "enabled");
    info_table_row!("version", crate::VERSION);
    info_table_row!("built for PHP", BUILT_FOR_PHP);
    let crms: Vec<&str> = CrmKind::ALL.iter().map(|kind| kind.slug()).collect();
    info_table_row!("CRMs", crms.join(", "));
    info_table_end!();
}

/// Module startup: registers the exception classes (functions are registered by the builder).
fn startup(_ty: i32, _module_number: i32) -> i32 {
    match exceptions::register() {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    // The version is the module entry's, so `phpversion('wpf_bridge')` reads it without a call.
    let module = module
        .name("wpf_bridge")
        .version(crate::VERSION)
        .info_function(module_info)
        .constant((
            "WPF_BRIDGE_RULES_JSON",
            functions::rules_json(),
            &[" wpf_bridge_rules() as JSON text: the plugin reads the rules from it without a call."],
        ));
    interfaces::register(functions::register(module))
}
