/**
 * The LLM route's governance: upstream model APIs named in the config, model aliases, token
 * budgets and the request-body rules (strict JSON, the model spliced, never re-serialised) that
 * let a model call go through the same {@link dev.sentinel.core.Sentinel} pipeline as a tool call
 * (method {@code llm/chat} or {@code llm/embeddings}, name the model). No web stack: the HTTP
 * endpoints are an adapter in the HTTP runner. docs/llm.md has the design.
 */
@NullMarked
package dev.sentinel.core.llm;

import org.jspecify.annotations.NullMarked;
