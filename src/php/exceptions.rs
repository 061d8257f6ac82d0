//! The PHP exception classes, and the one conversion from `Error` to a thrown exception.
//!
//! `WpfBridge\Exception` extends `\Exception`; each error family has a subclass. They are
//! plain internal classes (no Rust object behind them), so PHP code can create, extend and
//! catch them like any exception. Every exception thrown by wpf-bridge carries the stable
//! integer code as `getCode()` and the stable string code in the public `errorCode` property
//! (e.g. `invalid_json`).
//!
//! Why `ClassBuilder` and not `#[php_class]`: both are ext-php-rs's own class registration,
//! but `#[php_class]` backs every object with a Rust struct and gives each Rust type its own
//! object handlers. Its guide ("Sharing Methods Between Parent and Child Classes") notes that
//! what a parent Rust class defines is not served on a child class's objects, so the
//! `errorCode` property would have to be declared again on each of the six structs, and the
//! classes would stop being plain internal classes whose declared property PHP subclasses
//! inherit. `ClassBuilder` declares them exactly as PHP would: a zend-declared public
//! property on the base, inherited by every subclass, PHP's own `Exception` handlers. The
//! price is the `ENTRIES` table below, which keeps each class entry for `to_exception`.

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::builders::{ClassBuilder, ClassProperty};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, PropertyFlags};
use ext_php_rs::prelude::PhpResult;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ce, ClassEntry};

use crate::error::{Error, ErrorKind};

/// The classes, in registration order (the base first). What each is for is documented in
/// `stubs/` (written by `scripts/stubs.sh`) and in the README.
pub const CLASSES: [&str; 6] = [
    "WpfBridge\\Exception",
    "WpfBridge\\InvalidPayloadException",
    "WpfBridge\\AuthenticationException",
    "WpfBridge\\ConfigurationException",
    "WpfBridge\\CrmException",
    "WpfBridge\\SiteException",
];

const BASE: usize = 0;

static ENTRIES: [AtomicPtr<ClassEntry>; 6] = [
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
];

fn remember<const I: usize>(entry: &'static mut ClassEntry, tables: ArgInfoTables) {
    ENTRIES[I].store(entry, Ordering::Release);
    // The engine points into these tables for the life of the process.
    std::mem::forget(tables);
}

fn entry(index: usize) -> Option<&'static ClassEntry> {
    // SAFETY: set once at MINIT to a class entry the engine owns until shutdown.
    unsafe { ENTRIES[index].load(Ordering::Acquire).as_ref() }
}

fn base_entry() -> &'static ClassEntry {
    entry(BASE).unwrap_or_else(ce::exception)
}

/// Registers the classes; called from the module's startup (MINIT).
pub fn register() -> ext_php_rs::error::Result<()> {
    let registrations: [fn(&'static mut ClassEntry, ArgInfoTables); 6] = [
        remember::<0>,
        remember::<1>,
        remember::<2>,
        remember::<3>,
        remember::<4>,
        remember::<5>,
    ];
    for (index, (name, registration)) in CLASSES.iter().zip(registrations).enumerate() {
        let parent: (fn() -> &'static ClassEntry, &'static str) = if index == BASE {
            (ce::exception, "\\Exception")
        } else {
            (base_entry, CLASSES[BASE])
        };
        let mut builder = ClassBuilder::new(*name)
            .extends(parent)
            .registration(registration);
        if index == BASE {
            builder = builder.property(ClassProperty {
                name: "errorCode".into(),
                flags: PropertyFlags::Public,
                default: Some(Box::new(|| "".into_zval(true))),
                docs: &[],
                ty: Some(DataType::String),
                nullable: false,
                readonly: false,
                default_stub: Some("''".into()),
            });
        }
        builder.register()?;
    }
    Ok(())
}

/// The class an error is thrown as.
fn class_for(error: &Error) -> usize {
    match error.kind() {
        ErrorKind::InvalidPayload => 1,
        ErrorKind::Authentication => 2,
        ErrorKind::Configuration => 3,
        ErrorKind::Crm => 4,
        ErrorKind::Site => 5,
    }
}

/// Builds the exception for an error: the right class, constructed with the message and the
/// integer code, `errorCode` set to the string code.
pub fn to_exception(error: &Error) -> PhpException {
    let message = error.to_string();
    let number = error.number();
    let Some(class) = entry(class_for(error)) else {
        return PhpException::new(message, number, ce::exception());
    };
    let mut object = ZendObject::new(class);
    let constructed = object
        .try_call_method("__construct", vec![&message.as_str(), &i64::from(number)])
        .is_ok()
        && object.set_property("errorCode", error.code()).is_ok();
    let mut zval = Zval::new();
    zval.set_object(&mut object);
    if constructed {
        PhpException::new(message, number, class).with_object(zval)
    } else {
        PhpException::new(message, number, class)
    }
}

/// `Result` from the core to `PhpResult`.
pub fn php_result<T>(result: crate::Result<T>) -> PhpResult<T> {
    result.map_err(|error| to_exception(&error))
}
