//! The `relais check` contract: arguments, JSON Lines, exit statuses.

use clap::Parser;
use relais_guard::cli::run_check_to;
use relais_guard::{Charter, CheckArgs};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: CheckArgs,
}

fn file(content: &[u8]) -> tempfile_path::TempPath {
    tempfile_path::TempPath::with(content)
}

/// Minimal temp file helper (no extra dependency).
mod tempfile_path {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    pub struct TempPath(pub PathBuf);
    impl TempPath {
        pub fn with(content: &[u8]) -> TempPath {
            let n = N.fetch_add(1, Ordering::SeqCst);
            let p = std::env::temp_dir()
                .join(format!("relais-guard-cli-{}-{n}.txt", std::process::id()));
            std::fs::write(&p, content).unwrap();
            TempPath(p)
        }
        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn run(argv: &[&str], charter: Option<Charter>) -> (u8, String, String) {
    let mut full = vec!["check"];
    full.extend_from_slice(argv);
    let cli = Cli::try_parse_from(full).expect("arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_check_to(&cli.args, charter, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn json_lines_with_char_offsets() {
    let f = file("🎉 Nous avons recu l'evenement.\nMerci !".as_bytes());
    let (code, out, _) = run(&[f.as_str(), "--lang", "fr", "--format", "json"], None);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 2);
    for l in &lines {
        for key in ["kind", "severity", "start", "end", "message", "suggestions"] {
            assert!(l.get(key).is_some(), "missing {key} in {l}");
        }
    }
    let first = &lines[0];
    assert_eq!(first["kind"], "spelling.unknown_word");
    assert_eq!(
        (first["start"].as_u64(), first["end"].as_u64()),
        (Some(13), Some(17))
    );
}

#[test]
fn blocking_finding_exits_1() {
    let f = file(b"Carte : 4111 1111 1111 1111");
    let (code, out, _) = run(&[f.as_str(), "--format", "json"], None);
    assert_eq!(code, 1);
    assert!(out.contains("pii.payment_card") && !out.contains("4111"));
}

#[test]
fn workspace_charter_and_charter_file() {
    let f = file(b"Un produit pas cher.");
    let charter: Charter =
        serde_json::from_str(r#"{"forbidden_terms":[{"term":"pas cher"}]}"#).unwrap();
    assert_eq!(
        run(&[f.as_str(), "--workspace", "acme"], Some(charter)).0,
        1
    );
    let c = file(br#"{"forbidden_terms":[{"term":"produit"}]}"#);
    let (code, out, _) = run(
        &[f.as_str(), "--charter", c.as_str(), "--format", "json"],
        None,
    );
    assert_eq!(code, 1);
    assert!(out.contains("charter.forbidden_term"));
    let bad = file(br#"{"forbidden_terms":[{"term":"(","regex":true}]}"#);
    let (code, _, err) = run(&[f.as_str(), "--charter", bad.as_str()], None);
    assert_eq!(code, 2);
    assert!(err.contains("forbidden_terms[0]"), "{err}");
}

#[test]
fn input_errors_exit_2() {
    let f = file(b"caf\xc3\xa9 \xff ok");
    let (code, _, err) = run(&[f.as_str()], None);
    assert_eq!(code, 2);
    assert!(err.contains("UTF-8") && err.contains("offset 6"), "{err}");
    assert_eq!(run(&["/nonexistent/relais.txt"], None).0, 2);
    let ok = file(b"hello");
    assert_eq!(run(&[ok.as_str(), "--lang", "xx"], None).0, 2);
}

#[test]
fn empty_text_exits_0_and_says_so() {
    let f = file(b"");
    let (code, out, err) = run(&[f.as_str(), "--format", "json"], None);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("empty"));
}

#[test]
fn human_output_and_large_input() {
    let f = file("Bonjour ! Le le chat.".as_bytes());
    let (code, out, _) = run(&[f.as_str()], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("1:8") && out.contains("typography.nbsp"),
        "{out}"
    );
    let big = "The team shipped a new release today. ".repeat(3000);
    let f = file(big.as_bytes());
    let (code, out, _) = run(&[f.as_str(), "--lang", "en", "--format", "json"], None);
    assert_eq!((code, out.as_str()), (0, ""));
}
