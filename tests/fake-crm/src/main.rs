//! `fake-crm`: the fake Mautic, User.com, ActiveCampaign and MailerLite APIs as a program,
//! for the PHP end-to-end tests.
//!
//! ```text
//! fake-crm --port P [--mautic-user U --mautic-password P --mautic-token T
//!          --userengage-key K --activecampaign-token T --mailerlite-token T]
//!          [--seed FILE.json]
//! ```
//! Binds 127.0.0.1 only, prints `listening on http://127.0.0.1:P` once it accepts
//! connections, and serves until killed. `--port 0` picks a free port (read it from that
//! line). The seed file is `{"mautic": [contact, ...], "userengage": [user, ...],
//! "activecampaign": [contact, ...], "mailerlite": [subscriber, ...]}`. Mautic is under
//! `/mautic`, User.com under `/userengage/api/public/`, ActiveCampaign under
//! `/activecampaign` (`/api/3/...`), MailerLite under `/mailerlite/api`, the control API
//! under `/_control/` (see the library's `control` module).

use std::io::Write;
use std::process::ExitCode;

use fake_crm::{Credentials, FakeCrm};

const USAGE: &str = "usage: fake-crm --port P [--mautic-user U] [--mautic-password P] \
                     [--mautic-token T] [--userengage-key K] [--activecampaign-token T] \
                     [--mailerlite-token T] [--seed FILE.json]";

struct Options {
    port: u16,
    credentials: Credentials,
    seed: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut port = None;
    let mut credentials = Credentials::default();
    let mut seed = None;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = iter
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .clone();
        match flag.as_str() {
            "--port" => {
                port = Some(
                    value
                        .parse::<u16>()
                        .map_err(|_| format!("--port must be a port number, not {value:?}"))?,
                )
            }
            "--mautic-user" => credentials.mautic_username = value,
            "--mautic-password" => credentials.mautic_password = value,
            "--mautic-token" => credentials.mautic_token = value,
            "--userengage-key" => credentials.userengage_key = value,
            "--activecampaign-token" => credentials.activecampaign_token = value,
            "--mailerlite-token" => credentials.mailerlite_token = value,
            "--seed" => seed = Some(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Options {
        port: port.ok_or("--port is required")?,
        credentials,
        seed,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("fake-crm: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let crm = match FakeCrm::start_on(options.port) {
        Ok(crm) => crm,
        Err(e) => {
            eprintln!("fake-crm: cannot listen on 127.0.0.1:{}: {e}", options.port);
            return ExitCode::from(1);
        }
    };
    crm.set_credentials(options.credentials);
    if let Some(path) = options.seed {
        let loaded = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            .and_then(|seed| crm.seed(&seed));
        if let Err(e) = loaded {
            eprintln!("fake-crm: cannot load the seed {path}: {e}");
            return ExitCode::from(2);
        }
    }
    println!("listening on {}", crm.base_url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
