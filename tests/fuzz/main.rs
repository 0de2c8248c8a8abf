//! A stable-Rust fuzz harness and property tests for the parsers that face
//! the network (issue 13). `cargo fuzz` needs nightly; this needs nothing
//! but `cargo test`, so CI can run it on every change.
//!
//! Two targets, each fed its seed corpus unmutated and then mutated inputs
//! (`mutate.rs`) from a seeded PRNG (`runner.rs`):
//!
//! - `client` (`client.rs`): bytes from a client → `packet::judge` → reply
//!   → `encode` at the UDP and TCP limits, and `Handler::answer_now`;
//! - `upstream` (`upstream.rs`): bytes as a server's reply → parse →
//!   `scrub` as some zone → `classify` → stored in small `RrsetCache` and
//!   `NegativeCache`s kept across the run, as the resolver stores replies
//!   (`store.rs`), their byte accounting audited after each input.
//!
//! Environment:
//!
//! | variable                | meaning                                              | default |
//! |-------------------------|------------------------------------------------------|---------|
//! | `ROOTWALK_FUZZ_INPUTS`  | inputs per target, seeds included                    | [`DEFAULT_INPUTS`] |
//! | `ROOTWALK_FUZZ_SEED`    | the PRNG seed (a run replays exactly for a seed)      | 13      |
//! | `ROOTWALK_FUZZ_REPLAY`  | a saved input: `replay` runs both targets on it      | —       |
//! | `ROOTWALK_PROP_CASES`   | cases per property test                              | per test |
//!
//! A failure saves its input under `target/fuzz-crashes/` and prints the
//! path, seed and input number; once understood (and the bug fixed), copy
//! it to `testdata/fuzz/{query,reply}/regress-*.bin` so every run checks it.

mod client;
mod corpus;
mod mutate;
mod props;
mod runner;
mod store;
mod upstream;

use runner::{Report, Target};

/// Inputs per target when `ROOTWALK_FUZZ_INPUTS` is unset: sized so both
/// targets together take well under a minute in the debug test profile on
/// two cores.
const DEFAULT_INPUTS: u64 = 20_000;

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn fuzz(name: &'static str, target: Target, kind: &str) -> Report {
    let corpus: Vec<Vec<u8>> = corpus::load(kind).into_iter().map(|(_, b)| b).collect();
    assert!(
        !corpus.is_empty(),
        "no seed corpus in {}",
        corpus::dir(kind).display()
    );
    let inputs = env_u64("ROOTWALK_FUZZ_INPUTS", DEFAULT_INPUTS);
    let seed = env_u64("ROOTWALK_FUZZ_SEED", 13);
    let report = runner::run(name, target, &corpus, seed, inputs, &runner::crash_dir());
    println!("{}", report.summary());
    report
}

fn assert_clean(report: &Report) {
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| format!("input {} ({}): {}", f.index, f.path.display(), f.message))
        .collect();
    assert!(
        failures.is_empty(),
        "{}\n{}",
        report.summary(),
        failures.join("\n")
    );
}

#[test]
fn fuzz_client_query_path() {
    assert_clean(&fuzz("client", client::target, "query"));
}

/// The upstream target, and proof that its replies reached the caches:
/// RRsets taken and refused, negative answers, evictions and the
/// per-reply cap all happened.
#[test]
fn fuzz_upstream_reply_path() {
    store::reset();
    let report = fuzz("upstream", upstream::target, "reply");
    let totals = store::reset();
    println!("fuzz upstream: {totals}");
    assert_clean(&report);
    if report.inputs >= 1000 {
        assert!(
            totals.taken > 0
                && totals.refused > 0
                && totals.negative > 0
                && totals.displaced > 0
                && totals.capped > 0,
            "the caches were not exercised: {totals}"
        );
    }
}

/// Runs both targets on the file named by `ROOTWALK_FUZZ_REPLAY` (a saved
/// failure); without it, on every corpus file.
#[test]
fn replay() {
    let inputs: Vec<(String, Vec<u8>)> = match std::env::var_os("ROOTWALK_FUZZ_REPLAY") {
        Some(path) => {
            let bytes = std::fs::read(&path).expect("read the input to replay");
            vec![(path.to_string_lossy().into_owned(), bytes)]
        }
        None => corpus::load("query")
            .into_iter()
            .chain(corpus::load("reply"))
            .collect(),
    };
    let mut failures = Vec::new();
    for (name, bytes) in &inputs {
        for (target, run) in [
            ("client", client::target as Target),
            ("upstream", upstream::target),
        ] {
            if let Err(message) = runner::run_one(run, bytes) {
                failures.push(format!("{target} on {name}: {message}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
