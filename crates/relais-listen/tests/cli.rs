//! The `relais listen match` contract, end to end through files.

use std::fs;
use std::path::Path;

use relais_listen::cli::{run, run_match, ListenCommand, ListenError, MatchArgs};

fn args(dir: &Path, queries: &str, posts: &str) -> MatchArgs {
    let q = dir.join("queries.tsv");
    let p = dir.join("posts.jsonl");
    fs::write(&q, queries).unwrap();
    fs::write(&p, posts).unwrap();
    MatchArgs {
        queries: q,
        posts: p,
        out: Some(dir.join("out.jsonl")),
    }
}

const QUERIES: &str = "# brand monitoring\n\
    \n\
    bm\t\"back market\" OR #BackMarket\n\
    oreal\tL'Oréal AND NOT job*\n\
    fr\tlang:fr AND prix\n\
    near\tbatterie NEAR/2 (morte OR HS)\n\
    q\"x\tcafé\r\n";

const POSTS: &str = concat!(
    r#"{"id":1,"text":"Mon téléphone #BackMarket est top","lang":"fr"}"#,
    "\n",
    r#"{"text":"L’ORÉAL recrute : jobs à Paris"}"#,
    "\n",
    "\n",
    r#"{"text":"Le prix chez L'Oréal","langs":["en","fr-FR"],"extra":{"a":[1,2]}}"#,
    "\n",
    r#"{"text":"batterie vraiment HS, Café \"offert\"","lang":null}"#,
    "\n",
    r#"{"text":"back  market\nlivraison"}"#,
    "\n",
);

#[test]
fn matches_are_written_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = args(dir.path(), QUERIES, POSTS);
    let stats = run_match(&a).unwrap();
    let out = fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let expected = concat!(
        r#"{"post":0,"query":"bm"}"#,
        "\n",
        r#"{"post":3,"query":"oreal"}"#,
        "\n",
        r#"{"post":3,"query":"fr"}"#,
        "\n",
        r#"{"post":4,"query":"near"}"#,
        "\n",
        r#"{"post":4,"query":"q\"x"}"#,
        "\n",
        r#"{"post":5,"query":"bm"}"#,
        "\n",
    );
    assert_eq!(out, expected);
    assert_eq!((stats.queries, stats.posts, stats.matches), (5, 5, 6));
    assert!(stats
        .summary()
        .starts_with("listen match: posts=5 matches=6 posts_per_s="));
    // Every output line is valid JSON.
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["post"].is_u64() && v["query"].is_string());
    }
}

fn assert_no_output(dir: &Path) {
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("out")), "{names:?}");
}

#[test]
fn bad_query_lines_name_the_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_match(&args(dir.path(), "a\tapple\nb apple\n", POSTS)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ListenError::Query { line: 2, .. }), "{msg}");
    assert!(
        msg.contains("queries.tsv:2:") && msg.contains("ID<TAB>EXPRESSION"),
        "{msg}"
    );

    let err = run_match(&args(dir.path(), "a\tapple AND\n", POSTS)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(":1: column 12: invalid query"), "{msg}");
    assert!(msg.contains("listen.query.expected_operand"), "{msg}");

    let err = run_match(&args(dir.path(), "a\tx\na\ty\n", POSTS)).unwrap_err();
    assert!(err
        .to_string()
        .contains("duplicate query id \"a\" (first on line 1)"));
    assert_no_output(dir.path());
}

#[test]
fn bad_post_lines_fail_without_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let posts = format!("{POSTS}{{\"txt\":\"oops\"}}\n");
    let err = run_match(&args(dir.path(), QUERIES, &posts)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ListenError::Post { line: 7, .. }), "{msg}");
    assert!(
        msg.contains("missing field `text`") && msg.contains("fix:"),
        "{msg}"
    );
    assert_no_output(dir.path());

    for bad in [
        "not json",
        "{\"text\":42}",
        "[1]",
        "{\"text\":\"a\",\"lang\":3}",
    ] {
        let err = run_match(&args(dir.path(), QUERIES, &format!("{bad}\n"))).unwrap_err();
        assert!(
            matches!(err, ListenError::Post { line: 1, .. }),
            "{bad}: {err}"
        );
    }
    assert_no_output(dir.path());
}

#[test]
fn byte_order_marks_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let a = args(
        dir.path(),
        "\u{feff}a\tapple\n",
        "\u{feff}{\"text\":\"Apple!\"}\n",
    );
    run_match(&a).unwrap();
    let out = fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"post\":0,\"query\":\"a\"}\n");
}

#[test]
fn run_returns_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let ok = args(dir.path(), QUERIES, POSTS);
    assert_eq!(
        run(ListenCommand::Match(ok)),
        std::process::ExitCode::SUCCESS
    );
    let bad = args(dir.path(), "oops\n", POSTS);
    assert_ne!(
        run(ListenCommand::Match(bad)),
        std::process::ExitCode::SUCCESS
    );
    let missing = MatchArgs {
        queries: dir.path().join("nope.tsv"),
        posts: dir.path().join("posts.jsonl"),
        out: None,
    };
    assert_ne!(
        run(ListenCommand::Match(missing)),
        std::process::ExitCode::SUCCESS
    );
}

#[test]
fn clap_parses_the_documented_command_line() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: ListenCommand,
    }
    let cli = Cli::try_parse_from([
        "listen",
        "match",
        "--queries",
        "q.tsv",
        "--posts",
        "p.jsonl",
        "--out",
        "o.jsonl",
    ])
    .unwrap();
    let ListenCommand::Match(a) = cli.cmd;
    assert_eq!(a.out.as_deref(), Some(Path::new("o.jsonl")));
}
