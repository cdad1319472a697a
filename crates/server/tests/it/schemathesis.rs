//! Schemathesis (property-based API tests from `/openapi.json`) against a real server on
//! each database, with a bounded budget: no 5xx for any generated request, valid or not, and
//! every response matching the documented schema (issue 16). Run by hand with a bigger
//! budget: see `docs/server.md`, "API property tests".

use std::process::Command;
use std::time::Instant;

use leakwatch_testkit::smtp::test_python;
use leakwatch_testkit::*;
use serde_json::json;

/// Test cases per operation and phase: about 3,000 requests in all, a minute or so per
/// database on two cores.
const MAX_EXAMPLES: &str = "8";

both_backends!(
    generated_requests_get_no_server_error_and_match_the_schema,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app
            .user(
                "acme",
                "boekhoudpartners.nl",
                "beheer@boekhoudpartners.nl",
                true,
            )
            .await;
        // Something to find, so that not every generated id is a miss.
        let (message_id, _) = app
            .tracked_message(&admin, &["jan@klant.nl"], "Jaarrekening")
            .await;
        let (status, body) = app
            .post(
                "/api/v1/incidents",
                &admin,
                &json!({"message_id": message_id, "wrong_recipients": ["jan@klant.nl"]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let schema = app.url("/openapi.json");
        let reports = std::env::temp_dir().join(format!(
            "leakwatch-schemathesis-{}",
            leakwatch_server::kit::ids::random_id().replace(['-', '_'], "")
        ));
        // A password reset ends the tokens issued before it (issue 16), the admin's own
        // included, and schemathesis finds her id in GET /api/v1/users: so every other
        // operation runs first, the password operation last.
        let password = "^/api/v1/users/[^/]+/password$";
        for (selection, pattern) in [
            ("--exclude-path-regex", password),
            ("--include-path-regex", password),
        ] {
            std::fs::create_dir_all(&reports).unwrap();
            let started = Instant::now();
            let output = tokio::task::spawn_blocking({
                let (reports, schema, admin) = (reports.clone(), schema.clone(), admin.clone());
                move || {
                    Command::new(test_python())
                        .args(["-m", "schemathesis.cli", "run", &schema])
                        .args(["--checks", "not_a_server_error,response_schema_conformance"])
                        .args(["--max-examples", MAX_EXAMPLES, "--seed", "16"])
                        .args(["--phases", "examples,coverage,fuzzing"])
                        // One worker: with two, CPython 3.11's ast module is not thread-safe
                        // (hypothesis parses lambdas; "AST constructor recursion depth
                        // mismatch" now and then).
                        .args(["--workers", "1", "--request-timeout", "10"])
                        .args(["--generation-database", "none", "--no-color"])
                        // A stream never ends; its documented answer is checked in alerts.rs.
                        .args(["--exclude-path", "/api/v1/alerts/stream"])
                        .args([selection, pattern])
                        .args(["-H", &format!("Authorization: Bearer {admin}")])
                        .arg("--report-dir")
                        .arg(&reports)
                        // Its caches go next to it, not into the repository.
                        .current_dir(&reports)
                        .output()
                        .expect("schemathesis runs (cargo xtask setup installs it)")
                }
            })
            .await
            .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            println!(
                "schemathesis on {backend:?} ({selection} {pattern}), {:.0} s:\n{}",
                started.elapsed().as_secs_f64(),
                summary(&stdout)
            );
            assert!(
                output.status.success(),
                "schemathesis found problems on {backend:?}:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            if selection == "--exclude-path-regex" {
                // Only the browser session's own operations take a cookie, not the token.
                let refused: Vec<&str> = only_refused(&stdout)
                    .into_iter()
                    .filter(|op| !op.ends_with(" /api/v1/auth/session"))
                    .collect();
                assert!(
                    refused.is_empty(),
                    "the admin's token did not work for {refused:?}:\n{stdout}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&reports);
        app.finish().await;
    }
);

/// The run's summary: from "SUMMARY" on, or the whole output when it has none.
fn summary(stdout: &str) -> &str {
    stdout.find("SUMMARY").map_or(stdout, |at| &stdout[at..])
}

/// The operations schemathesis says answered only 401 or 403.
fn only_refused(stdout: &str) -> Vec<&str> {
    let Some(at) = stdout.find("401 Unauthorized (") else {
        return Vec::new();
    };
    stdout[at..]
        .lines()
        .skip(1)
        .map_while(|line| line.strip_prefix("  - "))
        .collect()
}
