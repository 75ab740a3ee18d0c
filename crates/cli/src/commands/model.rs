//! `agentscale model ping`: one small request through the full layer stack (accounting,
//! retry honouring `Retry-After`, limiter, prices), printing the reply, latency, usage, cost
//! and retries. The first thing to run against a new endpoint.

use std::sync::Arc;
use std::time::Instant;

use agentscale_core::model::{CallRole, Message, ModelError, ModelRequest};
use agentscale_core::usage::Cost;
use agentscale_models::{Ledger, ModelConfig, PriceTable, Provider, StackOptions};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale model`.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The model subcommand.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// Model subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Send one small request through the full layer stack; print the reply, latency, usage,
    /// cost and retries.
    Ping(PingArgs),
}

/// Arguments of `agentscale model ping`.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// The wire format: openai (chat completions) or anthropic (messages).
    #[arg(long)]
    pub provider: Provider,
    /// Base URL: with /v1 for OpenAI-compatible servers (http://host:8000/v1), without for
    /// Anthropic (https://api.anthropic.com). Default: the provider's official endpoint.
    #[arg(long)]
    pub base_url: Option<String>,
    /// The model name sent to the API (and looked up in the price table).
    #[arg(long)]
    pub model: String,
    /// The environment variable holding the API key. Default: OPENAI_API_KEY or
    /// ANTHROPIC_API_KEY for the official endpoints, none for a custom --base-url.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// The prompt.
    #[arg(long, default_value = "Reply with the single word: pong")]
    pub prompt: String,
    /// Output-token limit of the reply.
    #[arg(long, default_value_t = 32)]
    pub max_tokens: u32,
    /// Timeout of one HTTP request, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub timeout_sec: f64,
    /// Retries on rate limits, server errors and timeouts.
    #[arg(long, default_value_t = 3)]
    pub max_retries: u32,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `agentscale model`.
pub async fn run(args: ModelArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    match args.command {
        ModelCommand::Ping(a) => ping(a).await,
    }
}

fn exit_code_for(e: &ModelError) -> u8 {
    match e {
        ModelError::Authentication(_) => exit::USAGE,
        ModelError::RateLimited { .. }
        | ModelError::Server { .. }
        | ModelError::Timeout { .. }
        | ModelError::Connection { .. }
        | ModelError::MalformedResponse { .. } => exit::INFRA,
        _ => exit::FAILURE,
    }
}

fn cost_text(cost: Cost, model: &str) -> String {
    match cost {
        Cost::Usd(v) => format!("${v:.6}"),
        Cost::Unknown => format!(
            "unknown (no price for {model:?} in the price table; set prices in its [[models]] entry)"
        ),
    }
}

async fn ping(a: PingArgs) -> anyhow::Result<u8> {
    let mut cfg = ModelConfig::new(&a.model, a.provider);
    cfg.base_url.clone_from(&a.base_url);
    cfg.api_key_env.clone_from(&a.api_key_env);
    cfg.timeout_sec = a.timeout_sec;
    cfg.retry.max_retries = a.max_retries;
    cfg.check()
        .map_err(|e| exit::with_code(exit::USAGE, anyhow::anyhow!("{e}")))?;
    let ledger = Arc::new(Ledger::new());
    let opts = StackOptions {
        ledger: Some(ledger.clone()),
        prices: PriceTable::embedded(),
        ..StackOptions::default()
    };
    let stack = cfg
        .build_stack(&opts)
        .map_err(|e| exit::with_code(exit::USAGE, anyhow::anyhow!("{e}")))?;
    let endpoint = stack.endpoint().to_string();
    let mut req = ModelRequest::new(vec![Message::user(a.prompt.clone())]);
    req.sampling.max_tokens = Some(a.max_tokens);
    req.role = CallRole::Other;
    req.purpose = "model ping".into();
    let t0 = Instant::now();
    let out = agentscale_core::model::Model::complete(&stack, &req).await;
    let total_ms = t0.elapsed().as_millis() as u64;
    let retries = ledger.totals().all.retries;
    match out {
        Ok(r) => {
            if a.json {
                let v = json!({
                    "ok": true,
                    "provider": a.provider.as_str(),
                    "endpoint": endpoint,
                    "model": a.model,
                    "reported_model": r.model,
                    "reply": r.message.content,
                    "tool_calls": r.message.tool_calls,
                    "finish_reason": r.finish_reason,
                    "latency_ms": r.latency_ms,
                    "total_ms": total_ms,
                    "usage": r.usage,
                    "cost": r.cost,
                    "retries": r.retries,
                    "request_id": r.request_id,
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let u = r.usage;
                println!("reply     {}", r.message.content.trim());
                println!(
                    "model     {} ({}, {endpoint})",
                    a.model,
                    a.provider.as_str()
                );
                println!(
                    "latency   {} ms (last attempt), {total_ms} ms in all",
                    r.latency_ms
                );
                println!(
                    "usage     {} input, {} cached input, {} cache write, {} output tokens",
                    u.input_tokens, u.cached_input_tokens, u.cache_write_tokens, u.output_tokens
                );
                println!("cost      {}", cost_text(r.cost, &a.model));
                println!("retries   {}", r.retries);
                println!(
                    "finish    {}",
                    serde_json::to_value(r.finish_reason)?
                        .as_str()
                        .unwrap_or("other")
                );
                if let Some(id) = &r.request_id {
                    println!("request   {id}");
                }
            }
            Ok(exit::SUCCESS)
        }
        Err(e) => {
            let code = exit_code_for(&e);
            if a.json {
                let v = json!({
                    "ok": false,
                    "provider": a.provider.as_str(),
                    "endpoint": endpoint,
                    "model": a.model,
                    "error_kind": e.kind(),
                    "error": e.to_string(),
                    "total_ms": total_ms,
                    "retries": retries,
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
                Ok(code)
            } else {
                Err(exit::with_code(
                    code,
                    anyhow::anyhow!(
                        "model ping failed after {retries} retries ({}): {e}",
                        e.kind()
                    ),
                ))
            }
        }
    }
}
