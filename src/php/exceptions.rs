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
//! property on the base, inherited by every subclass, PHP's own `Exception` handlers.
//!
//! The classes are one table, `CLASSES`: each row a class's name, its parent and the error
//! family thrown as it. Registration keeps each class entry under its name for `to_exception`.

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::builders::{ClassBuilder, ClassProperty};
use ext_php_rs::class::ClassEntryInfo;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, PropertyFlags};
use ext_php_rs::prelude::PhpResult;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ce, ClassEntry};

use crate::error::{Error, ErrorKind};

/// One exception class: its name, its parent, and the family of errors thrown as it (`None`:
/// the base, which declares `errorCode` and is only ever thrown through a subclass).
pub struct ExceptionClass {
    pub name: &'static str,
    parent: ClassEntryInfo,
    pub thrown_for: Option<ErrorKind>,
}

/// The base class every wpf-bridge exception extends.
const BASE: &str = "WpfBridge\\Exception";
/// PHP's `\Exception`, the base's parent.
const PHP_EXCEPTION: ClassEntryInfo = (ce::exception, "\\Exception");
/// The base, as the parent of the family classes.
const UNDER_BASE: ClassEntryInfo = (base_entry, BASE);

/// The classes, in registration order (a parent before its children). What each is for is
/// documented in `stubs/` (written by `scripts/stubs.sh`) and in the README.
pub const CLASSES: [ExceptionClass; 6] = [
    ExceptionClass {
        name: BASE,
        parent: PHP_EXCEPTION,
        thrown_for: None,
    },
    ExceptionClass {
        name: "WpfBridge\\InvalidPayloadException",
        parent: UNDER_BASE,
        thrown_for: Some(ErrorKind::InvalidPayload),
    },
    ExceptionClass {
        name: "WpfBridge\\AuthenticationException",
        parent: UNDER_BASE,
        thrown_for: Some(ErrorKind::Authentication),
    },
    ExceptionClass {
        name: "WpfBridge\\ConfigurationException",
        parent: UNDER_BASE,
        thrown_for: Some(ErrorKind::Configuration),
    },
    ExceptionClass {
        name: "WpfBridge\\CrmException",
        parent: UNDER_BASE,
        thrown_for: Some(ErrorKind::Crm),
    },
    ExceptionClass {
        name: "WpfBridge\\SiteException",
        parent: UNDER_BASE,
        thrown_for: Some(ErrorKind::Site),
    },
];

/// The registered class entries, beside `CLASSES` (set at MINIT by `remember`).
static ENTRIES: [AtomicPtr<ClassEntry>; CLASSES.len()] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; CLASSES.len()];

fn position(name: &str) -> Option<usize> {
    CLASSES.iter().position(|class| class.name == name)
}

/// The registration callback: keeps the entry the engine made, under its class's name.
fn remember(entry: &'static mut ClassEntry, tables: ArgInfoTables) {
    if let Some(index) = entry.name().and_then(position) {
        ENTRIES[index].store(entry, Ordering::Release);
    }
    // The engine points into these tables for the life of the process.
    std::mem::forget(tables);
}

/// A registered class's entry, by name.
fn entry(name: &str) -> Option<&'static ClassEntry> {
    // SAFETY: set once at MINIT to a class entry the engine owns until shutdown.
    position(name).and_then(|index| unsafe { ENTRIES[index].load(Ordering::Acquire).as_ref() })
}

fn base_entry() -> &'static ClassEntry {
    entry(BASE).unwrap_or_else(ce::exception)
}

/// Registers the classes; called from the module's startup (MINIT).
pub fn register() -> ext_php_rs::error::Result<()> {
    for class in &CLASSES {
        let mut builder = ClassBuilder::new(class.name)
            .extends(class.parent)
            .registration(remember);
        if class.thrown_for.is_none() {
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

/// The class an error is thrown as: the one its family maps to.
fn class_for(error: &Error) -> Option<&'static str> {
    let kind = error.kind();
    CLASSES
        .iter()
        .find(|class| class.thrown_for == Some(kind))
        .map(|class| class.name)
}

/// Builds the exception for an error: the right class, constructed with the message and the
/// integer code, `errorCode` set to the string code.
pub fn to_exception(error: &Error) -> PhpException {
    let message = error.to_string();
    let number = error.number();
    let Some(class) = class_for(error).and_then(entry) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_has_one_class_and_parents_come_first() {
        for row in Error::TABLE {
            let classes: Vec<&str> = CLASSES
                .iter()
                .filter(|class| class.thrown_for == Some(row.kind))
                .map(|class| class.name)
                .collect();
            assert_eq!(classes.len(), 1, "{} is thrown as {classes:?}", row.code);
        }
        for (index, class) in CLASSES.iter().enumerate() {
            let parent = class.parent.1;
            assert!(
                parent == PHP_EXCEPTION.1 || CLASSES[..index].iter().any(|c| c.name == parent),
                "{} extends {parent}, not registered before it",
                class.name
            );
            assert_eq!(position(class.name), Some(index), "{} twice", class.name);
        }
    }
}
