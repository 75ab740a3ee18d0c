//! Row types of the derived tables that are not the paper's: per-task answers, the
//! leaderboard, the per-configuration summary, pass@k, paired comparisons, cost and failures.
//! Rates are fractions in [0, 1].

use crate::table_row;

table_row! {
    /// A system's answer on one task: the rollout it picked and how that rollout was graded.
    pub struct AnswerRow in "answers" {
        /// The configuration.
        pub system: String,
        /// The task id.
        pub task_id: String,
        /// The task's repository (cluster), if any.
        pub repo: Option<String>,
        /// The answer's rollout; empty when the system picked none.
        pub rollout_id: Option<String>,
        /// The answer's grade status; `ungraded` when no grade exists, `no_answer` when nothing was picked.
        pub status: String,
        /// True when the answer resolves the task.
        pub resolved: bool,
        /// The answer's reward (Terminal-Bench), else empty.
        pub reward: Option<f64>,
        /// True when the outcome is an infrastructure failure (excluded from rates, counted apart).
        pub infra: bool,
        /// The exception kind the source recorded, if any.
        pub exception: Option<String>,
    }
}

table_row! {
    /// One leaderboard line: a system's resolved rate with a 95% bootstrap CI and a paired test
    /// against the best system.
    pub struct LeaderboardRow in "leaderboard" {
        /// 1 for the best system (highest rate; ties share nothing, order by name).
        pub rank: u32,
        /// The configuration.
        pub system: String,
        /// Tasks resolved.
        pub resolved: u64,
        /// Tasks scored: every task with an answer except infrastructure failures.
        pub total: u64,
        /// resolved / total.
        pub rate: f64,
        /// Lower end of the 95% bootstrap CI of `rate`.
        pub ci_low: f64,
        /// Upper end of the 95% bootstrap CI of `rate`.
        pub ci_high: f64,
        /// How the CI was computed (`bootstrap`, `bootstrap-cluster:repo`) with its resample count.
        pub ci_method: String,
        /// Lower end of the 95% bootstrap CI over tasks, not clustered (the interval most
        /// leaderboards quote; equal to `ci_low` when the run is not clustered by repository).
        pub task_ci_low: f64,
        /// Upper end of the 95% bootstrap CI over tasks, not clustered.
        pub task_ci_high: f64,
        /// Tasks whose outcome is an infrastructure failure (not in `total`).
        pub infra_errors: u64,
        /// Tasks whose answer's verifier could not run to a verdict (a download failed, it timed out, no reward file): neither reward 0 nor in `total`.
        pub verifier_errors: u64,
        /// Tasks with no answer (not in `total`).
        pub no_answer: u64,
        /// Tasks graded but not run or not gradable as the model's fault (empty patch, patch failed to apply, timeout, ...), included in `total` as unresolved.
        pub model_errors: u64,
        /// Mean reward, Harbor's job mean: over every graded trial (or over the answers when the system selects), a missing reward counting 1 when resolved and 0 otherwise (a trial that never reached its verifier counts 0); empty when no task has a reward.
        pub mean_reward: Option<f64>,
        /// Tasks whose trial ended in an exception, by kind (`Kind=count;...`).
        pub exceptions: String,
        /// Tasks whose trial ended in an exception, all kinds.
        pub exception_count: u64,
        /// The system compared with (the best); empty for the best itself.
        pub vs: Option<String>,
        /// Tasks both systems answered (infrastructure failures excluded).
        pub paired_tasks: Option<u64>,
        /// Tasks this system resolved and the best did not.
        pub only_this: Option<u64>,
        /// Tasks the best resolved and this system did not.
        pub only_best: Option<u64>,
        /// McNemar p-value (two-sided) against the best.
        pub p_value: Option<f64>,
        /// `mcnemar-exact` (discordant pairs < 25) or `mcnemar-chi2-cc`.
        pub test: Option<String>,
        /// This rate minus the best's on the paired tasks.
        pub diff: Option<f64>,
        /// Lower end of the 95% paired-bootstrap CI of `diff`.
        pub diff_ci_low: Option<f64>,
        /// Upper end of the 95% paired-bootstrap CI of `diff`.
        pub diff_ci_high: Option<f64>,
        /// Mean dollars per answered task; empty when no cost is known.
        pub cost_per_task: Option<f64>,
    }
}

table_row! {
    /// The per-configuration summary: one row per system with its settings and headline figures.
    pub struct ConfigRow in "configs" {
        /// The configuration.
        pub system: String,
        /// The agent's model.
        pub model: Option<String>,
        /// The selection method.
        pub method: Option<String>,
        /// Rollouts per task and iteration (N).
        pub n: Option<u32>,
        /// Iterations (T).
        pub iterations: Option<u32>,
        /// Context summaries (K).
        pub k: Option<u32>,
        /// Group size (G).
        pub group_size: Option<u32>,
        /// Votes per group (V).
        pub votes: Option<u32>,
        /// Tasks seen.
        pub tasks: u64,
        /// Rollouts recorded.
        pub rollouts: u64,
        /// Rollouts that ended through an infrastructure failure.
        pub infra_rollouts: u64,
        /// Graded rollouts whose verifier could not run to a verdict (not scored).
        pub verifier_errors: u64,
        /// Mean pass@1 of iteration-0 rollouts (graded, infrastructure failures excluded).
        pub pass1_iter0: Option<f64>,
        /// Resolved rate of the system's answers.
        pub rate: f64,
        /// Lower end of the rate's 95% CI.
        pub ci_low: f64,
        /// Upper end of the rate's 95% CI.
        pub ci_high: f64,
        /// Total known dollars (all roles).
        pub cost_usd: Option<f64>,
        /// Calls whose cost is unknown.
        pub unknown_cost_calls: u64,
        /// Total tokens, all roles.
        pub total_tokens: u64,
    }
}

table_row! {
    /// Unbiased pass@k and pass^k for k = 1..n, averaged over tasks. `scope = system`: the rollouts of one system and iteration are the samples; `scope = pooled`: every system's answer is one sample (e.g. 16 models as 16 samples).
    pub struct PassAtKRow in "pass_at_k" {
        /// `system` or `pooled`.
        pub scope: String,
        /// The configuration (`*` when pooled).
        pub system: String,
        /// The iteration (pooled: 0).
        pub iteration: u32,
        /// k.
        pub k: u32,
        /// Tasks averaged over (those with at least k graded samples).
        pub tasks: u64,
        /// Mean of 1 - C(n-c,k)/C(n,k).
        pub pass_at_k: f64,
        /// Mean of C(c,k)/C(n,k).
        pub pass_hat_k: f64,
    }
}

table_row! {
    /// Tokens and dollars by role (agent, summarizer, judge, and the total).
    pub struct CostByRoleRow in "cost_by_role" {
        /// The configuration.
        pub system: String,
        /// `agent`, `summarizer`, `judge` or `total`.
        pub role: String,
        /// Model calls (rollout steps, summary attempts, vote attempts).
        pub calls: u64,
        /// Uncached input tokens.
        pub input_tokens: u64,
        /// Cached input tokens.
        pub cached_input_tokens: u64,
        /// Cache-write input tokens.
        pub cache_write_tokens: u64,
        /// Output tokens.
        pub output_tokens: u64,
        /// Known dollars; empty when none is known.
        pub cost_usd: Option<f64>,
        /// Calls whose cost is unknown.
        pub unknown_cost_calls: u64,
        /// Items (rollouts, summaries, votes) whose token counts are unknown.
        pub unknown_token_items: u64,
    }
}

table_row! {
    /// Cost per task and per resolved task, and total vs critical-path tokens. The critical path of a task is the longest chain of calls that must run one after another: per iteration, the largest rollout, then the largest summary, then per tournament round the largest vote (rollouts, summaries and the votes of a round run in parallel).
    pub struct CostPerTaskRow in "cost_per_task" {
        /// The configuration.
        pub system: String,
        /// Tasks.
        pub tasks: u64,
        /// Tasks resolved by the system's answer.
        pub resolved: u64,
        /// Known dollars, all roles.
        pub cost_usd: Option<f64>,
        /// Known dollars per task.
        pub cost_per_task: Option<f64>,
        /// Known dollars per resolved task.
        pub cost_per_resolved: Option<f64>,
        /// Calls whose cost is unknown (the dollar figures are lower bounds when > 0).
        pub unknown_cost_calls: u64,
        /// Mean total tokens per task.
        pub tokens_per_task: f64,
        /// Mean critical-path tokens per task.
        pub critical_path_tokens_per_task: f64,
        /// Mean critical-path / total tokens.
        pub critical_path_share: Option<f64>,
    }
}

table_row! {
    /// Failures counted apart: infrastructure failures and exceptions, by stage and kind.
    pub struct FailureRow in "failures" {
        /// The configuration.
        pub system: String,
        /// `rollout`, `summary`, `vote` or `grade`.
        pub stage: String,
        /// The kind (exit status, grade status or exception type).
        pub kind: String,
        /// True for infrastructure failures (never scored as model failures).
        pub infra: bool,
        /// How many items.
        pub count: u64,
    }
}

table_row! {
    /// Problems met while producing or reading the tables (malformed files, dangling references).
    pub struct IssueRow in "issues" {
        /// The file or table concerned.
        pub file: String,
        /// What was wrong and what was done.
        pub problem: String,
    }
}
