//! Integration tests of the report crate: importers on the real runs under ../shared (skipped
//! when absent unless AGENTSCALE_REQUIRE_SHARED=1), the synthetic run with known answers, the
//! write/read cycle and the HTML report's structure.

#![allow(clippy::many_single_char_names, clippy::float_cmp)]

mod imports;
mod known;

use agentscale_core::testenv::shared_path;
use agentscale_report::import::{ImportKind, ImportOptions, import};
use agentscale_report::stats::pass_at_k;
use agentscale_report::synthetic::{SyntheticSpec, generate};
use agentscale_report::tables::derived::LeaderboardRow;
use agentscale_report::{
    BuildOptions, Format, ReportOptions, build_all, read_run_dir, write_report,
};

fn opts() -> BuildOptions {
    BuildOptions {
        seed: 1,
        resamples: 1000,
    }
}

#[test]
fn swebench_import_of_mini_gemini_gives_the_official_371_of_500() {
    let Some(p) = shared_path(
        "swebench_import_of_mini_gemini",
        "runs/swe-bench-verified/mini-v1.15.0-gemini-3-pro",
    ) else {
        return;
    };
    for kind in [ImportKind::SweBench, ImportKind::MiniSweAgent] {
        let data = import(kind, &p, &ImportOptions::default()).unwrap();
        assert!(data.meta.issues.is_empty(), "{:?}", data.meta.issues);
        let r = build_all(&data, &opts());
        assert_eq!(r.leaderboard.len(), 1);
        let row = &r.leaderboard[0];
        assert_eq!(row.system, "google/gemini-3-pro-preview");
        assert_eq!((row.resolved, row.total), (371, 500), "{row:?}");
        assert!((row.rate - 0.742).abs() < 1e-12);
        assert!(row.ci_low < 0.742 && 0.742 < row.ci_high, "{row:?}");
        assert!(row.ci_method.starts_with("bootstrap-cluster:repo"));
        // A clustered CI on 500 tasks is a few points wide.
        assert!(
            row.ci_high - row.ci_low > 0.04 && row.ci_high - row.ci_low < 0.15,
            "{row:?}"
        );
        // The plain task-level interval is the usual ±4 pp on 500 tasks, and narrower.
        assert!(
            row.task_ci_low < 0.742 && 0.742 < row.task_ci_high,
            "{row:?}"
        );
        let task_width = row.task_ci_high - row.task_ci_low;
        assert!(task_width > 0.06 && task_width < 0.09, "{row:?}");
        assert!(task_width < row.ci_high - row.ci_low, "{row:?}");
        if kind == ImportKind::MiniSweAgent {
            let with_steps: Vec<_> = data.rollouts.iter().filter(|r| r.steps.is_some()).collect();
            assert_eq!(with_steps.len(), 10);
            let t = data
                .rollouts
                .iter()
                .find(|r| r.task_id == "django__django-11099")
                .unwrap();
            assert_eq!(t.steps, Some(21));
            assert!((t.cost_usd.unwrap() - 0.133_730_8).abs() < 1e-9);
            assert_eq!(t.exit_status, "submitted");
            assert!(t.output_tokens.unwrap() > 0);
        }
    }
}

#[test]
fn harbor_jobs_give_their_own_mean_rewards_and_exception_counts() {
    let Some(root) = shared_path(
        "harbor_jobs_give_their_own_mean_rewards",
        "runs/terminal-bench-2.0/harbor-jobs-predev",
    ) else {
        return;
    };
    for (job, mean, resolved, exc) in [
        (
            "predev-sonnet-4-6__56.2",
            0.5618,
            50,
            "AgentTimeoutError=20;NonZeroAgentExitCodeError=4",
        ),
        (
            "predev-haiku-4-5__41.6",
            0.4157,
            37,
            "AgentTimeoutError=17;NonZeroAgentExitCodeError=4",
        ),
    ] {
        let data = import(
            ImportKind::Harbor,
            &root.join(job),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(data.rollouts.len(), 89);
        let r = build_all(&data, &opts());
        let row = &r.leaderboard[0];
        let m = row.mean_reward.unwrap();
        assert!((m - mean).abs() < 0.00006, "{job}: {m}");
        assert_eq!(row.resolved, resolved);
        assert_eq!(row.total, 89);
        assert_eq!(row.exceptions, exc, "{job}");
        assert_eq!(row.infra_errors, 0);
        // The job's own mean is kept and agrees.
        let reported: Vec<f64> = data
            .meta
            .source
            .reported
            .iter()
            .filter(|(k, _)| k.starts_with("mean/"))
            .filter_map(|(_, v)| v.as_f64())
            .collect();
        assert_eq!(reported.len(), 1);
        assert!((reported[0] - m).abs() < 1e-12);
    }
}

#[test]
fn matrix_import_gives_16_systems_equal_to_column_sums_and_pooled_pass_at_k() {
    let Some(p) = shared_path(
        "matrix_import_gives_16_systems",
        "runs/swe-bench-verified/inspect-16-models/resolved-matrix.csv",
    ) else {
        return;
    };
    let data = import(ImportKind::Matrix, &p, &ImportOptions::default()).unwrap();
    let r = build_all(&data, &opts());
    assert_eq!(r.leaderboard.len(), 16);
    // Column sums and per-task solved masks, read independently of the importer.
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut sums = vec![0u64; header.len() - 1];
    // Per task: (models with a result, models that resolved it) as bit masks.
    let mut masks = Vec::new();
    for l in lines {
        let cells: Vec<&str> = l.split(',').collect();
        let (mut avail, mut solved) = (0u32, 0u32);
        for (i, c) in cells[1..].iter().enumerate() {
            if c.is_empty() {
                continue;
            }
            avail |= 1 << i;
            if c.parse::<f64>().unwrap() == 1.0 {
                sums[i] += 1;
                solved |= 1 << i;
            }
        }
        masks.push((avail, solved));
    }
    for (i, name) in header[1..].iter().enumerate() {
        let row = r.leaderboard.iter().find(|x| x.system == *name).unwrap();
        assert_eq!(row.resolved, sums[i], "{name}");
        assert_eq!(row.total + row.no_answer, 500, "{name}");
    }
    // The leaderboard is sorted; every system but the best has a paired test against it.
    assert!(r.leaderboard.windows(2).all(|w| w[0].rate >= w[1].rate));
    let second = &r.leaderboard[1];
    assert_eq!(second.vs.as_deref(), Some(r.leaderboard[0].system.as_str()));
    let (b, c) = (second.only_this.unwrap(), second.only_best.unwrap());
    let p = second.p_value.unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(
        second.test.as_deref().unwrap(),
        if b + c < 25 {
            "mcnemar-exact"
        } else {
            "mcnemar-chi2-cc"
        }
    );
    // Pooled pass@k for k = 1..16 against brute-force enumeration of every k-subset of the
    // models that have a result on the task (tasks with fewer than k such models are left out).
    let pooled: Vec<_> = r.pass_at_k.iter().filter(|x| x.scope == "pooled").collect();
    assert_eq!(pooled.len(), 16);
    let mut sum = [0.0f64; 17];
    let mut tasks = [0u64; 17];
    for &(avail, solved) in &masks {
        let n = avail.count_ones() as usize;
        let (mut hit, mut all) = ([0u64; 17], [0u64; 17]);
        // Every non-empty submask of `avail`.
        let mut s = avail;
        while s != 0 {
            let k = s.count_ones() as usize;
            all[k] += 1;
            if s & solved != 0 {
                hit[k] += 1;
            }
            s = (s - 1) & avail;
        }
        for k in 1..=n {
            sum[k] += hit[k] as f64 / all[k] as f64;
            tasks[k] += 1;
        }
    }
    for row in pooled {
        let k = row.k as usize;
        assert_eq!(row.tasks, tasks[k], "k={k}");
        let want = sum[k] / tasks[k] as f64;
        assert!(
            (row.pass_at_k - want).abs() < 1e-9,
            "k={k}: {} vs {want}",
            row.pass_at_k
        );
    }
    // And the estimator itself on one task: c = 3 of n = 16.
    assert!((pass_at_k(16, 3, 16).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn composio_summary_of_the_older_shape_imports() {
    let Some(p) = shared_path(
        "composio_summary_of_the_older_shape_imports",
        "runs/swe-bench-verified/composio-swekit-2024-09",
    ) else {
        return;
    };
    let data = import(ImportKind::SweBench, &p, &ImportOptions::default()).unwrap();
    let r = build_all(&data, &opts());
    assert_eq!(
        (r.leaderboard[0].resolved, r.leaderboard[0].total),
        (20, 95)
    );
}

fn small_spec() -> SyntheticSpec {
    SyntheticSpec {
        tasks: 12,
        models: 2,
        n: 4,
        iterations: 2,
        k: 2,
        votes: 3,
        seed: 5,
    }
}

#[test]
fn written_tables_read_back_identically_from_parquet_and_from_csv() {
    let data = generate(&small_spec());
    for formats in [vec![Format::Parquet], vec![Format::Csv]] {
        let tmp = tempfile::tempdir().unwrap();
        let opts = ReportOptions {
            formats: formats.clone(),
            ..ReportOptions::default()
        };
        let w = write_report(tmp.path(), &data, &opts).unwrap();
        let back = read_run_dir(tmp.path()).unwrap();
        assert_eq!(back, data, "{formats:?}");
        let lb = agentscale_report::io::read_rows::<LeaderboardRow>(&tmp.path().join("tables"))
            .unwrap()
            .unwrap();
        assert_eq!(lb, w.report.leaderboard);
    }
}

#[test]
fn tables_are_deterministic_for_a_seed() {
    let data = generate(&small_spec());
    let a = build_all(&data, &opts());
    let b = build_all(&data, &opts());
    assert_eq!(a, b);
    let (t1, t2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = ReportOptions::default();
    write_report(t1.path(), &data, &o).unwrap();
    write_report(t2.path(), &data, &o).unwrap();
    for name in [
        "leaderboard.csv",
        "stage_averages.csv",
        "votes.csv",
        "rollouts.parquet",
    ] {
        let x = std::fs::read(t1.path().join("tables").join(name)).unwrap();
        let y = std::fs::read(t2.path().join("tables").join(name)).unwrap();
        assert_eq!(x, y, "{name}");
    }
    for name in ["report.md", "report.html"] {
        assert_eq!(
            std::fs::read(t1.path().join(name)).unwrap(),
            std::fs::read(t2.path().join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn html_report_is_one_self_contained_file_with_its_plots() {
    let data = generate(&small_spec());
    let tmp = tempfile::tempdir().unwrap();
    let opts = ReportOptions {
        formats: vec![Format::Html],
        ..ReportOptions::default()
    };
    write_report(tmp.path(), &data, &opts).unwrap();
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html"));
    assert!(html.trim_end().ends_with("</body></html>"));
    assert_eq!(html.matches("<html").count(), 1);
    // Self-contained: no script, no external resource, no link.
    for banned in ["<script", "src=", "href=", "<link", "url("] {
        assert!(!html.contains(banned), "found {banned}");
    }
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    // Five plots, each a complete SVG with a title and drawn data.
    assert_eq!(html.matches("<svg").count(), 5);
    assert_eq!(html.matches("</svg>").count(), 5);
    for title in [
        "Resolved rate vs N",
        "Resolved rate vs group size",
        "Resolved rate vs votes",
        "Resolved rate vs tournament rounds",
        "Cost vs resolved rate",
    ] {
        assert!(
            html.contains(&format!("<title>{title}")),
            "missing plot {title}"
        );
    }
    let rounds = html
        .split("<title>Resolved rate vs tournament rounds")
        .nth(1)
        .unwrap();
    let rounds = &rounds[..rounds.find("</svg>").unwrap()];
    assert!(rounds.contains("<polyline") && rounds.matches("<circle").count() >= 4);
    let cost = html.split("<title>Cost vs resolved rate").nth(1).unwrap();
    assert_eq!(
        cost[..cost.find("</svg>").unwrap()]
            .matches("<circle")
            .count(),
        2
    );
    // Every table section is there, with balanced table tags.
    for h in [
        "Leaderboard",
        "Stage averages",
        "Judge accuracy on mixed groups",
        "Position bias",
        "Cost by role",
    ] {
        assert!(html.contains(&format!("<h2>{h}</h2>")), "missing {h}");
    }
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("</table>").count()
    );
    assert!(html.matches("<table>").count() >= 15);
}

#[test]
fn markdown_report_of_the_known_run() {
    let data = known::run();
    let r = build_all(
        &data,
        &BuildOptions {
            seed: 3,
            resamples: 200,
        },
    );
    let md = agentscale_report::render::markdown::report(&data, &r);
    insta::assert_snapshot!(md);
}

/// (system, iteration) → (tasks, pass@k, pass^k) by k.
type Curves = std::collections::BTreeMap<(String, u32), Vec<(u64, f64, f64)>>;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Invariants every derived table must satisfy on any run.
    #[test]
    fn derived_tables_are_consistent(
        tasks in 1usize..7, models in 1usize..3, n in 2usize..6, iterations in 1usize..3,
        k in 1usize..5, votes in 1usize..4, seed in 0u64..1000,
    ) {
        let data = generate(&SyntheticSpec { tasks, models, n, iterations, k, votes, seed });
        let r = build_all(&data, &BuildOptions { seed, resamples: 100 });
        let p = &r.paper;
        for o in &p.oracle {
            proptest::prop_assert_eq!(o.mixed + o.all_pass + o.none_pass, o.tasks);
            proptest::prop_assert!(o.oracle_pass_at_n + 1e-12 >= o.pass1);
            let hist: u64 = p.histogram.iter()
                .filter(|h| h.system == o.system && h.iteration == o.iteration)
                .map(|h| h.tasks).sum();
            proptest::prop_assert_eq!(hist, o.tasks);
            let at1 = r.pass_at_k.iter()
                .find(|x| x.scope == "system" && x.system == o.system && x.iteration == o.iteration && x.k == 1)
                .unwrap();
            proptest::prop_assert!((at1.pass_at_k - o.pass1).abs() < 1e-9);
            proptest::prop_assert!((at1.pass_hat_k - o.pass1).abs() < 1e-9);
        }
        let mut curves: Curves = Curves::new();
        for x in r.pass_at_k.iter().filter(|x| x.scope == "system") {
            curves.entry((x.system.clone(), x.iteration)).or_default().push((x.tasks, x.pass_at_k, x.pass_hat_k));
        }
        // Monotone in k over the same tasks (a task with fewer scored samples than k drops out).
        for c in curves.values() {
            for w in c.windows(2).filter(|w| w[0].0 == w[1].0) {
                proptest::prop_assert!(w[1].1 + 1e-12 >= w[0].1 && w[1].2 <= w[0].2 + 1e-12);
            }
        }
        for j in &p.judge {
            proptest::prop_assert!(j.correct <= j.mixed_groups && j.mixed_groups <= j.groups);
        }
        let mut wins: std::collections::BTreeMap<(String, u32), (u64, u64)> =
            std::collections::BTreeMap::new();
        for b in &p.position {
            let e = wins.entry((b.system.clone(), b.group_size)).or_default();
            e.0 = b.votes;
            e.1 += b.wins;
        }
        for (votes, won) in wins.values() {
            proptest::prop_assert_eq!(votes, won);
        }
        for w in p.rounds.windows(2) {
            if w[0].system == w[1].system && w[0].iteration == w[1].iteration && w[0].tasks == w[1].tasks {
                proptest::prop_assert!(w[1].survivors_pass_at_n <= w[0].survivors_pass_at_n + 1e-12);
            }
        }
        for row in &r.leaderboard {
            proptest::prop_assert!(row.ci_low <= row.rate + 1e-12 && row.rate <= row.ci_high + 1e-12);
            proptest::prop_assert_eq!(row.total + row.infra_errors + row.verifier_errors + row.no_answer, tasks as u64);
        }
        let per_system: u64 = p.transitions.iter().map(|t| t.tasks).sum();
        proptest::prop_assert!(per_system <= (tasks * models) as u64);
        if iterations == 2 {
            proptest::prop_assert_eq!(p.stages.iter().filter(|s| s.stage == "final").count(), models);
        }
    }
}

/// A verifier that could not run is neither reward 0 nor a scored task: the known run with
/// task B's answer (B6, resolved) turned into a verifier error and one unresolved rollout of
/// task A too.
#[test]
fn verifier_errors_are_counted_apart_in_every_table() {
    let mut data = known::run();
    for g in &mut data.grades {
        if g.rollout_id == "B6" || g.rollout_id == "A1" {
            g.status = "verifier_error".into();
            g.resolved = false;
            g.reward = Some(0.0);
        }
    }
    let r = build_all(&data, &opts());
    let lb = &r.leaderboard[0];
    assert_eq!((lb.resolved, lb.total), (1, 1), "{lb:?}");
    assert_eq!(lb.verifier_errors, 1);
    assert_eq!(
        lb.infra_errors + lb.no_answer + lb.model_errors,
        0,
        "{lb:?}"
    );
    let cfg = &r.configs[0];
    assert_eq!(cfg.verifier_errors, 2, "{cfg:?}");
    let f = r
        .failures
        .iter()
        .find(|f| f.kind == "verifier_error")
        .expect("a failures row for the verifier errors");
    assert_eq!((f.stage.as_str(), f.count, f.infra), ("grade", 2, false));
    // pass@1 of iteration 0 leaves A1 out: A passes 1 of 3, B 0 of 4
    let p1 = r
        .pass_at_k
        .iter()
        .find(|p| p.scope == "system" && p.iteration == 0 && p.k == 1)
        .unwrap();
    assert!(
        (p1.pass_at_k - f64::midpoint(1.0 / 3.0, 0.0)).abs() < 1e-9,
        "{p1:?}"
    );
}
