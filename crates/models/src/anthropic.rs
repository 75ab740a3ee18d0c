//! [`AnthropicClient`]: the Anthropic Messages API (`POST {base_url}/v1/messages`, headers
//! `x-api-key` and `anthropic-version`).
//!
//! System messages become the top-level `system`; tool results become `tool_result` blocks
//! of a user turn; consecutive turns of one role are merged (the API wants alternation).
//! Usage: `input_tokens` excludes cache reads and writes, which come as
//! `cache_read_input_tokens` and `cache_creation_input_tokens`. There is no seed.

use agentscale_core::model::{
    FinishReason, Message, Model, ModelError, ModelRequest, ModelResponse, Role, ToolCall,
};
use agentscale_core::usage::Usage;
use async_trait::async_trait;
use reqwest::header::HeaderValue;
use serde_json::{Map, Value, json};

use crate::client::{ClientOptions, anthropic_max_output_tokens, response, tool_schema, u64_field};
use crate::http::{
    ClientBuildError, HttpReply, Transport, auth_value, header_map, normalize_base_url,
};

/// The `anthropic-version` header sent.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A client of the Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicClient {
    model: String,
    transport: Transport,
    prompt_cache: bool,
}

impl AnthropicClient {
    /// Build the client (checks the base URL and headers; sends nothing).
    pub fn new(opts: &ClientOptions) -> Result<Self, ClientBuildError> {
        let base = normalize_base_url(&opts.base_url)?;
        let mut headers = header_map(&opts.extra_headers)?;
        if let Some(k) = &opts.api_key {
            headers.insert("x-api-key", auth_value("", k)?);
        }
        if !headers.contains_key("anthropic-version") {
            headers.insert(
                "anthropic-version",
                HeaderValue::from_static(ANTHROPIC_VERSION),
            );
        }
        Ok(Self {
            model: opts.model.clone(),
            transport: Transport::new(
                format!("{base}/v1/messages"),
                headers,
                opts.api_key.clone(),
                opts.timeout,
            )?,
            prompt_cache: opts.prompt_cache,
        })
    }

    /// The URL requests are posted to.
    pub fn endpoint(&self) -> &str {
        self.transport.url()
    }
}

#[async_trait]
impl Model for AnthropicClient {
    fn name(&self) -> &str {
        &self.model
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let body = request_body(&self.model, req, self.prompt_cache)?;
        let reply = self.transport.post_json(&body, &self.model).await?;
        parse_reply(&reply, &self.model, &self.transport)
    }
}

fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// The JSON body for a request.
pub(crate) fn request_body(
    model: &str,
    req: &ModelRequest,
    prompt_cache: bool,
) -> Result<Value, ModelError> {
    let mut system: Vec<&str> = Vec::new();
    // (role, blocks), merged when the role repeats.
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, blocks) = match m.role {
            Role::System => {
                system.push(&m.content);
                continue;
            }
            Role::User => ("user", vec![text_block(&m.content)]),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                    "content": m.content,
                })],
            ),
            Role::Assistant => {
                let mut b = Vec::new();
                if !m.content.is_empty() {
                    b.push(text_block(&m.content));
                }
                for c in &m.tool_calls {
                    let input = match serde_json::from_str::<Value>(&c.arguments) {
                        Ok(v @ Value::Object(_)) => v,
                        _ => json!({ "_raw_arguments": c.arguments }),
                    };
                    b.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
                }
                ("assistant", b)
            }
        };
        match turns.last_mut() {
            Some((r, b)) if *r == role => b.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    for (_, blocks) in &mut turns {
        // The API rejects empty text blocks.
        blocks.retain(|b| b.get("type") != Some(&json!("text")) || b["text"] != json!(""));
        if blocks.is_empty() {
            blocks.push(text_block("(empty)"));
        }
    }
    if prompt_cache
        && let Some((_, blocks)) = turns.last_mut()
        && let Some(Value::Object(last)) = blocks.last_mut()
    {
        last.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
    let mut o = Map::new();
    o.insert("model".into(), json!(model));
    o.insert(
        "max_tokens".into(),
        json!(
            req.sampling
                .max_tokens
                .unwrap_or_else(|| anthropic_max_output_tokens(model))
        ),
    );
    if !system.is_empty() {
        let text = system.join("\n\n");
        if prompt_cache {
            o.insert(
                "system".into(),
                json!([{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]),
            );
        } else {
            o.insert("system".into(), json!(text));
        }
    }
    o.insert(
        "messages".into(),
        Value::Array(
            turns
                .into_iter()
                .map(|(role, blocks)| json!({"role": role, "content": blocks}))
                .collect(),
        ),
    );
    let s = &req.sampling;
    if let Some(t) = s.temperature {
        o.insert("temperature".into(), json!(t));
    }
    if let Some(p) = s.top_p {
        o.insert("top_p".into(), json!(p));
    }
    if !s.stop.is_empty() {
        o.insert("stop_sequences".into(), json!(s.stop));
    }
    if !req.tools.is_empty() {
        let mut tools = Vec::with_capacity(req.tools.len());
        for t in &req.tools {
            tools.push(json!({
                "name": t.name,
                "description": t.description,
                "input_schema": tool_schema(t)?,
            }));
        }
        o.insert("tools".into(), Value::Array(tools));
    }
    Ok(Value::Object(o))
}

/// Usage from an Anthropic `usage` object.
pub fn usage_from_json(u: &Value) -> Usage {
    Usage {
        input_tokens: u64_field(u, "input_tokens"),
        cached_input_tokens: u64_field(u, "cache_read_input_tokens"),
        cache_write_tokens: u64_field(u, "cache_creation_input_tokens"),
        output_tokens: u64_field(u, "output_tokens"),
    }
}

fn finish_reason(s: Option<&str>) -> FinishReason {
    match s {
        Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

fn parse_reply(
    reply: &HttpReply,
    model: &str,
    transport: &Transport,
) -> Result<ModelResponse, ModelError> {
    let v = transport.json_body(reply)?;
    if v.get("type").and_then(Value::as_str) == Some("error") {
        return Err(transport.error_in_body(reply, 500, model));
    }
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| transport.malformed("no `content` list in the reply".into()))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => tool_calls.push(ToolCall {
                id: b
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                name: b
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                arguments: b.get("input").map_or_else(|| "{}".into(), Value::to_string),
            }),
            // thinking, redacted_thinking and future block kinds are not part of the reply text
            _ => {}
        }
    }
    let message = Message {
        role: Role::Assistant,
        content: text,
        tool_calls,
        tool_call_id: None,
    };
    Ok(response(
        reply,
        &v,
        model,
        &["request-id", "x-request-id"],
        message,
        finish_reason(v.get("stop_reason").and_then(Value::as_str)),
        v.get("usage").map(usage_from_json).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use agentscale_core::model::{Sampling, ToolSpec};

    use super::*;

    fn conversation() -> ModelRequest {
        let mut req = ModelRequest::new(vec![
            Message::system("sys one"),
            Message::system("sys two"),
            Message::user("hi"),
            Message {
                role: Role::Assistant,
                content: "let me look".into(),
                tool_calls: vec![ToolCall {
                    id: "toolu_1".into(),
                    name: "bash".into(),
                    arguments: r#"{"command":"ls"}"#.into(),
                }],
                tool_call_id: None,
            },
            Message::tool_result("toolu_1", "a.txt"),
            Message::user("and now?"),
        ]);
        req.sampling = Sampling {
            temperature: Some(0.5),
            top_p: None,
            max_tokens: None,
            stop: vec!["STOP".into()],
            seed: Some(3),
        };
        req.tools = vec![ToolSpec::bash()];
        req
    }

    #[test]
    fn request_shape() {
        let body = request_body("claude-x", &conversation(), false).unwrap();
        insta::assert_json_snapshot!("anthropic_request", body);
    }

    #[test]
    fn request_shape_with_prompt_cache() {
        let body = request_body("claude-x", &conversation(), true).unwrap();
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
        let msgs = body["messages"].as_array().unwrap();
        let last = msgs.last().unwrap()["content"].as_array().unwrap();
        assert_eq!(last.last().unwrap()["cache_control"]["type"], "ephemeral");
        // tool result and the next user message merged into one user turn
        assert_eq!(msgs.len(), 3);
        assert!(body.get("seed").is_none());
    }

    #[test]
    fn unset_max_tokens_is_the_models_maximum_not_8192() {
        let mut req = conversation();
        req.sampling.max_tokens = None;
        for (model, want) in [
            ("claude-opus-4-5-20251101", 64_000),
            ("claude-sonnet-4-5-20250929", 64_000),
            ("anthropic/claude-sonnet-4.5", 64_000),
            ("claude-opus-4-1-20250805", 32_000),
            ("claude-3-5-haiku-20241022", 8_192),
            ("claude-3-haiku-20240307", 4_096),
            ("some-proxy-name", 32_000),
        ] {
            let body = request_body(model, &req, false).unwrap();
            assert_eq!(body["max_tokens"], json!(want), "{model}");
        }
        // a summary of 40,000 characters (about 10,000 tokens) fits
        let body = request_body("claude-opus-4-5-20251101", &req, false).unwrap();
        assert!(body["max_tokens"].as_u64().unwrap() > 40_000 / 3);
        // an explicit limit always wins
        req.sampling.max_tokens = Some(1_000);
        let body = request_body("claude-opus-4-5-20251101", &req, false).unwrap();
        assert_eq!(body["max_tokens"], json!(1_000));
    }

    #[test]
    fn usage_maps_cache_fields() {
        let u = usage_from_json(&json!({
            "input_tokens": 12, "output_tokens": 30,
            "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200
        }));
        assert_eq!(
            u,
            Usage {
                input_tokens: 12,
                cached_input_tokens: 1000,
                cache_write_tokens: 200,
                output_tokens: 30
            }
        );
        let nulls = usage_from_json(
            &json!({"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": null}),
        );
        assert_eq!(nulls.cached_input_tokens, 0);
    }
}
