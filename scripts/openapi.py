#!/usr/bin/env python3
"""Writes Sources/ParleyHTTP/Resources/openapi.json, the OpenAPI 3.1 description of every route.

Run it after adding a route; OperationsTests fails while a route is missing from the document.
"""
import json
import os

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def err(*codes): return {c: {"$ref": f"#/components/responses/E{c}"} for c in codes}
def body(schema, required=True): return {"required": required, "content": {"application/json": {"schema": schema}}}
def ok(schema, code="200", desc="OK"): return {code: {"description": desc, "content": {"application/json": {"schema": schema}}}}
def idp(*names): return [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}} for n in names]
def query(name, schema, desc=""): return {"name": name, "in": "query", "schema": schema, "description": desc}

PAGE = [query("cursor", {"type": "string"}, "nextCursor of the previous page"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})]
AGENT = [{"session": []}, {"apiKey": []}]
VISITOR = [{"visitorToken": []}]
PUBLIC = []
UNSAFE = err("400", "401", "403", "404", "413", "415", "422")

def op(summary, tag, responses, security=AGENT, **kw):
    o = {"summary": summary, "tags": [tag], "responses": responses, "security": security}
    o.update(kw)
    return o

paths = {
    "/healthz": {"get": op("Liveness: the process is up", "operations", ok(ref("Status")), PUBLIC)},
    "/readyz": {"get": op("Readiness: the database answers", "operations",
                          {**ok(ref("Status")), "503": {"description": "Database unavailable", "content": {"application/json": {"schema": ref("Status")}}}}, PUBLIC)},
    "/metrics": {"get": op("Prometheus metrics", "operations", {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}, PUBLIC)},
    "/api/v1/openapi.json": {"get": op("This document", "operations", {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}, PUBLIC)},
    "/api/v1/realtime": {"get": op(
        "The WebSocket endpoint (upgrade). Authenticate with ?token=<visitor token>, the session cookie, or an API key as Bearer. "
        "Client frames: subscribe {channel, after}, unsubscribe, send {channel, clientId, body}, typing {channel, on}, read {channel, seq}, ping. "
        "Server frames: event {channel, seq, name, data}, subscribed {channel, recovered, session}, ack {clientId, message, duplicate}, error {code, message}, pong.",
        "realtime", {"101": {"description": "Switching protocols"}, **err("401", "403")}, [{"visitorToken": []}, {"session": []}, {"apiKey": []}],
        parameters=[query("token", {"type": "string"}, "A visitor token (browsers cannot set headers on WebSockets)")])},

    "/api/v1/auth/password/forgot": {"post": op("Forgot password: emails a single-use reset link (one hour) to an active agent with this address; the same answer (202) whether the account exists or not; throttled per email and per IP; 409 when no mail server is configured", "auth", {"202": {"description": "Accepted"}, **err("400", "409", "415", "422", "429")}, PUBLIC, requestBody=body({"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}))},
    "/api/v1/auth/password/reset": {"post": op("Sets a new password with a reset link's token, once; every session of the account ends", "auth", {**ok({"type": "object", "properties": {"email": {"type": "string"}}}), **err("400", "410", "415", "422")}, PUBLIC, requestBody=body({"type": "object", "required": ["token", "password"], "properties": {"token": {"type": "string"}, "password": {"type": "string", "minLength": 10}}}))},
    "/api/v1/auth/invitation/accept": {"post": op("Accepts an invitation: the invitee chooses their password (and name) with the link's token, once, within 48 hours", "auth", {**ok({"type": "object", "properties": {"email": {"type": "string"}}}), **err("400", "410", "415", "422")}, PUBLIC, requestBody=body({"type": "object", "required": ["token", "password"], "properties": {"token": {"type": "string"}, "password": {"type": "string", "minLength": 10}, "name": {"type": "string"}}}))},
    "/api/v1/auth/login": {"post": op("Sign in with email and password; sets the session cookie", "auth",
                                      {**ok(ref("Me")), **err("400", "401", "413", "415", "422", "429")}, PUBLIC, requestBody=body(ref("LoginRequest")))},
    "/api/v1/auth/logout": {"post": op("Sign out: ends this session and clears the cookie", "auth", {"204": {"description": "Signed out"}, **err("401", "403")})},
    "/api/v1/me": {"get": op("The caller: agent or API key, organization, role, permissions, CSRF token", "auth", {**ok(ref("Me")), **err("401")}),
                   "patch": op("Change your display name", "auth", {**ok(ref("Me")), **UNSAFE}, requestBody=body({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 120}}}))},
    "/api/v1/me/preferences": {
        "get": op("Which notifications you get, by kind (assignment, customer_reply, sla_warning, sla_breach, handoff)", "auth", {**ok(ref("Preferences")), **err("401", "403")}),
        "put": op("Turn kinds of notifications on or off, in the app and by email, and the dashboard's sound and desktop alerts (what is left out stays as it was)", "auth", {**ok(ref("Preferences")), **UNSAFE}, requestBody=body(ref("Preferences")))},
    "/api/v1/me/password": {"post": op("Change your password; your other sessions end", "auth", {"204": {"description": "Changed"}, **UNSAFE}, requestBody=body(ref("PasswordChange")))},

    "/api/v1/widget/config": {"get": op("What the widget needs to draw itself, or why it should not (unknown_site, site_inactive, widget_disabled, origin_not_allowed)",
                                        "widget", {**ok(ref("WidgetConfig")), **err("422", "429")}, PUBLIC, parameters=[query("site", {"type": "string"}, "The site key")])},
    "/api/v1/chat/sessions": {"post": op("Start or resume the visitor's conversation; returns a visitor token and recent messages", "widget",
                                         {**ok(ref("StartedSession")), **UNSAFE, **err("429")}, PUBLIC, requestBody=body(ref("StartSession")))},
    "/api/v1/chat/sessions/{session}/messages": {
        "get": op("Messages after a seq (history, and the polling fallback)", "widget", {**ok(ref("VisitorMessages")), **err("401", "404", "422", "429")}, VISITOR,
                  parameters=idp("session") + [query("after", {"type": "integer", "minimum": 0}), query("limit", {"type": "integer", "minimum": 1, "maximum": 200})]),
        "post": op("Send a message: 201 the first time, 200 with the same message for a repeated clientId", "widget",
                   {**ok(ref("Message"), "201", "Stored"), **ok(ref("Message"), "200", "A resend: the message stored the first time"), **UNSAFE, **err("409", "429")},
                   VISITOR, parameters=idp("session"), requestBody=body(ref("NewMessage")))},
    "/api/v1/chat/sessions/{session}/attachments": {"post": op("Send an image or a PDF (the raw file as the body; its type is judged by its first bytes; PARLEY_ATTACHMENT_MAX_MB, 10 by default): it becomes the visitor's message carrying it", "widget",
        {**ok({"type": "object", "properties": {"message": ref("Message")}}, "201", "Stored"), **ok({"type": "object", "properties": {"message": ref("Message")}}, "200", "A resend"), **UNSAFE, **err("429")}, VISITOR,
        parameters=idp("session") + [query("name", {"type": "string", "maxLength": 120}, "The file's name, shown to both sides"), query("clientId", {"type": "string"}, "Idempotency key, as for messages"), query("caption", {"type": "string", "maxLength": 2000}, "The message's text (default: the file's name)")], requestBody={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/octet-stream"]}})},
    "/api/v1/chat/attachments/{attachment}": {"get": op("A file of the visitor's own conversation", "widget", {**{"200": {"description": "The file, with X-Content-Type-Options: nosniff; images inline, anything else Content-Disposition: attachment", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}, **err("401", "404")}, VISITOR, parameters=idp("attachment"))},
    "/api/v1/admin/chats/{chat}/attachments": {"post": op("Send an image or a PDF as the agent (the raw file as the body): it becomes the agent's message carrying it", "conversations",
        {**ok({"type": "object", "properties": {"message": ref("Message")}}, "201", "Stored"), **ok({"type": "object", "properties": {"message": ref("Message")}}, "200", "A resend"), **UNSAFE},
        parameters=idp("chat") + [query("name", {"type": "string", "maxLength": 120}, "The file's name, shown to both sides"), query("clientId", {"type": "string"}, "Idempotency key, as for messages"), query("caption", {"type": "string", "maxLength": 2000}, "The message's text (default: the file's name)")], requestBody={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/octet-stream"]}})},
    "/api/v1/admin/attachments/{attachment}": {"get": op("A file of a conversation in your organization", "conversations", {**{"200": {"description": "The file, with X-Content-Type-Options: nosniff; images inline, anything else Content-Disposition: attachment", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}, **err("401", "403", "404")}, parameters=idp("attachment"))},
    "/app": {"get": op("The agent dashboard (one page; its views are routed after #), under a strict Content-Security-Policy", "dashboard", {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}, PUBLIC)},
    "/app/{file}": {"get": op("The dashboard's modules and styles", "dashboard", {"200": {"description": "JavaScript or CSS", "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}}}, **err("404")}, PUBLIC,
        parameters=[{"name": "file", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/widget.js": {"get": op("The widget's loader: embed with <script src=\"/widget.js\" data-site=\"SITE_KEY\" async>", "widget", {"200": {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}, **err("404")}, PUBLIC)},
    "/widget/frame.html": {"get": op("The chat UI's page, loaded by the loader in an iframe; only the site's allowed origins may frame it (CSP frame-ancestors)", "widget", {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}, **err("404")}, PUBLIC,
        parameters=[query("site", {"type": "string"}, "The site key")])},
    "/widget/{file}": {"get": op("The chat UI's scripts and styles", "widget", {"200": {"description": "JavaScript or CSS", "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}}}, **err("404")}, PUBLIC,
        parameters=[{"name": "file", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/api/v1/chat/sessions/{session}/email": {"post": op("Leave an email for replies", "widget", {**ok(ref("EmailLeft")), **UNSAFE}, VISITOR,
                                                         parameters=idp("session"), requestBody=body({"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}}}))},
    "/api/v1/chat/sessions/{session}/escalate": {"post": op("Talk to a person: hand the conversation to the team", "widget",
                                                            {**ok(ref("Session")), **err("401", "404", "409")}, VISITOR, parameters=idp("session"))},
    "/api/v1/chat/sessions/{session}/rating": {"post": op("The visitor rates the help they got (1 to 5 stars, an optional comment), once the conversation has ended, once; a conversation that is a ticket rates the ticket too (credited once, to its assignee)", "widget", {**ok(ref("Session")), **err("401", "404", "409", "422")}, VISITOR, parameters=idp("session"), requestBody=body({"type": "object", "required": ["stars"], "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string", "maxLength": 2000}}}))},
    "/api/v1/chat/sessions/{session}/close": {"post": op("End the conversation", "widget", {**ok(ref("Session")), **err("401", "404", "409")}, VISITOR, parameters=idp("session"))},
    "/api/v1/chat/sessions/{session}/read": {"post": op("Mark read up to a seq", "widget", {**ok(ref("Session")), **UNSAFE}, VISITOR, parameters=idp("session"),
                                                        requestBody=body({"type": "object", "required": ["seq"], "properties": {"seq": {"type": "integer"}}}))},

    "/api/v1/chat/messages/{message}/feedback": {"post": op("Thumbs up or down on an assistant reply in the visitor's own conversation; a thumbs down offers a handoff", "widget",
                                                            {**ok(ref("FeedbackResult")), **UNSAFE}, VISITOR, parameters=idp("message"),
                                                            requestBody=body({"type": "object", "required": ["rating"], "properties": {"rating": {"type": "string", "enum": ["up", "down"]}, "comment": {"type": "string", "maxLength": 1000}}}))},

    "/api/v1/admin/chats": {"get": op("Conversations by last activity, newest first", "conversations", {**ok(ref("ChatPage")), **err("401", "403", "422")},
                                      parameters=PAGE + [query("status", {"type": "string"}, "Comma-separated: ai_active, agent_active, escalated, closed"),
                                                         query("assigned", {"type": "string"}, "me, unassigned or an agent id"),
                                                         query("archived", {"type": "boolean"}), query("escalated", {"type": "boolean"}),
                                                         query("feedback", {"type": "string", "enum": ["up", "down"]}, "Conversations where the visitor rated the assistant so"),
                                                         query("from", {"type": "string", "format": "date"}), query("to", {"type": "string", "format": "date"})])},
    "/api/v1/admin/chats/counts": {"get": op("How many conversations are in each status (and archived), and how many open ones are unassigned and yours (mine)", "conversations",
                                             {**ok({"type": "object", "additionalProperties": {"type": "integer"}}), **err("401", "403")})},
    "/api/v1/admin/chats/{chat}": {"get": op("A conversation with its last 100 messages and the visitor card", "conversations", {**ok(ref("ChatDetail")), **err("401", "403", "404")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/messages": {"get": op("Messages after a seq", "conversations", {**ok(ref("VisitorMessages")), **err("401", "403", "404", "422")},
                                                      parameters=idp("chat") + [query("after", {"type": "integer"}), query("limit", {"type": "integer"})])},
    "/api/v1/admin/chats/{chat}/reply": {"post": op("Reply as the agent; takes the conversation over from the AI. With internal: true, a note for the team only (metadata.internal = \"true\"): no takeover, never shown to the visitor or given to the AI", "conversations",
                                                    {**ok(ref("Reply"), "201", "Stored"), **ok(ref("Reply"), "200", "A resend"), **UNSAFE, **err("409")},
                                                    parameters=idp("chat"), requestBody=body({"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 10000}, "clientId": {"type": "string"}, "internal": {"type": "boolean"}}}))},
    "/api/v1/admin/chats/{chat}/assign": {"post": op("Assign to an agent (or null)", "conversations", {**ok(ref("Session")), **UNSAFE, **err("409")}, parameters=idp("chat"),
                                                     requestBody=body({"type": "object", "properties": {"agentId": {"type": ["string", "null"], "format": "uuid"}}}))},
    "/rate/{token}": {
        "get": op("A rating link from a 'resolved' email: records the score (1 to 5) once and offers a comment; a second visit shows the rating given (HTML; 404 for a link that is not valid, 410 when it expired, 409 when the ticket was reopened)", "email", {"200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}, security=[], parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]),
        "post": op("Adds a comment to the rating (form field `comment`), once (HTML)", "email", {"200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}, security=[], parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/unsubscribe/{token}": {
        "get": op("The unsubscribe link of an email to a customer: asks to confirm (HTML)", "email", {"200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}, security=[], parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]),
        "post": op("Stops the organization's emails to that address (also a mail client's one-click unsubscribe, RFC 8058) (HTML)", "email", {"200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}, security=[], parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/api/v1/admin/chats/{chat}/ticket": {"post": op("Make a ticket: the conversation becomes a ticket, one thread with it from then on (messages written on either side appear on both; taking over assigns the ticket; resolving the ticket closes the conversation)", "tickets", {**ok(ref("Ticket"), "201", "Created"), **err("401", "403", "404", "409")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/close": {"post": op("Close", "conversations", {**ok(ref("Session")), **err("401", "403", "404", "409")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/archive": {"post": op("Archive (a new visitor message restores it)", "conversations", {**ok(ref("Session")), **err("401", "403", "404", "409")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/restore": {"post": op("Restore from the archive", "conversations", {**ok(ref("Session")), **err("401", "403", "404", "409")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/read": {"post": op("Mark viewed by the team (up to seq, or all)", "conversations", {**ok(ref("Session")), **UNSAFE}, parameters=idp("chat"),
                                                   requestBody=body({"type": "object", "properties": {"seq": {"type": "integer"}}}, required=False))},
    "/api/v1/admin/visitors/{visitor}/chat": {"post": op("Start a chat with a visitor: the agent's message in the visitor's open conversation (or a new one)", "conversations",
        {**ok(ref("Reply"), "201", "Sent"), **UNSAFE}, parameters=idp("visitor"),
        requestBody=body({"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 10000}}}))},
    "/api/v1/admin/visitors/live": {"get": op("Visitors seen in the last two minutes", "conversations", {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("Visitor")}}}), **err("401", "403")})},

    "/api/v1/admin/kb/articles": {
        "get": op("Knowledge-base articles (agents)", "knowledge base", {**ok(ref("ArticlePage")), **err("401", "403", "422")}, parameters=PAGE),
        "post": op("Create an article (admins)", "knowledge base", {**ok(ref("Article"), "201", "Created"), **UNSAFE}, requestBody=body(ref("ArticleInput")))},
    "/api/v1/admin/kb/articles/{article}": {
        "get": op("One article", "knowledge base", {**ok(ref("Article")), **err("401", "403", "404")}, parameters=idp("article")),
        "patch": op("Replace an article's fields (admins)", "knowledge base", {**ok(ref("Article")), **UNSAFE}, parameters=idp("article"), requestBody=body(ref("ArticleInput"))),
        "delete": op("Delete an article (admins)", "knowledge base", {"204": {"description": "Deleted"}, **err("401", "403", "404")}, parameters=idp("article"))},
    "/api/v1/admin/kb/search": {"get": op("Articles ranked as the assistant ranks them, best first, each with its best passage: BM25 over passages (FTS5 on SQLite, tsvector weighted by inverse document frequency on PostgreSQL), fused by reciprocal rank with cosine similarity to the passages' vectors when the organization has an embeddings provider", "knowledge base",
                                          {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("SearchHit")}}}), **err("401", "403", "422")},
                                          parameters=[query("q", {"type": "string", "minLength": 1, "maxLength": 1000}), query("published", {"type": "boolean"}, "only what the assistant may use"),
                                                      query("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20})])},
    "/api/v1/admin/kb/index": {"get": op("How far the semantic index is: the organization's distinct passages and how many have a vector of the embeddings provider's model (the background indexer embeds what changes; parley kb reindex does it in the foreground)", "knowledge base",
                                         {**ok({"type": "object", "properties": {"mode": {"type": "string", "enum": ["fulltext", "hybrid"]}, "model": {"type": ["string", "null"]},
                                             "passages": {"type": "integer"}, "embedded": {"type": "integer"},
                                             "provider": {"type": ["object", "null"], "properties": {"kind": {"type": "string"}, "baseUrl": {"type": "string"}, "derived": {"type": "boolean"},
                                                 "healthy": {"type": ["boolean", "null"]}, "lastError": {"type": ["string", "null"]}}}}}), **err("401", "403")})},
    "/api/v1/admin/kb/import": {"post": op("Import Markdown files; a file whose title exists updates that article", "knowledge base",
                                           {**ok({"type": "object", "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}}}), **UNSAFE},
                                           requestBody=body({"type": "object", "required": ["files"], "properties": {"files": {"type": "array", "maxItems": 500, "items": {
                                               "type": "object", "required": ["name", "markdown"], "properties": {"name": {"type": "string"}, "markdown": {"type": "string"}}}}}}))},
    "/api/v1/admin/ai/settings": {
        "get": op("The assistant's settings (defaults until changed)", "assistant", {**ok(ref("AssistantSettings")), **err("401", "403")}),
        "put": op("Replace the assistant's settings (admins)", "assistant", {**ok(ref("AssistantSettings")), **UNSAFE}, requestBody=body(ref("AssistantSettings")))},
    "/api/v1/admin/ai/providers": {
        "get": op("The organization's LLM providers in the order they are tried, with health; keys are never returned", "assistant",
                  {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("Provider")}}}), **err("401", "403")}),
        "post": op("Add a provider (admins); its API key is stored sealed with AES-256-GCM", "assistant", {**ok(ref("Provider"), "201", "Created"), **UNSAFE}, requestBody=body(ref("ProviderInput")))},
    "/api/v1/admin/ai/providers/{provider}": {
        "patch": op("Change a provider (admins); apiKey left out keeps the stored one, empty removes it", "assistant", {**ok(ref("Provider")), **UNSAFE}, parameters=idp("provider"), requestBody=body(ref("ProviderInput"))),
        "delete": op("Remove a provider (admins)", "assistant", {"204": {"description": "Removed"}, **err("401", "403", "404")}, parameters=idp("provider"))},
    "/api/v1/admin/ai/embeddings": {
        "get": op("The embeddings provider in use: configured, or borrowed from an OpenAI chat provider (derived); 404 when there is none (retrieval is full text alone)", "assistant", {**ok(ref("Embeddings")), **err("401", "403", "404")}),
        "put": op("Set the embeddings provider (admins): OpenAI-compatible /embeddings (input_type sent) or Gemini batchEmbedContents; the key is stored sealed; the passages are embedded again in the background for a new model", "assistant",
                  {**ok(ref("Embeddings")), **UNSAFE}, requestBody=body({"type": "object", "required": ["kind", "model"], "properties": {
                      "kind": {"type": "string", "enum": ["openai", "gemini"]}, "baseUrl": {"type": "string", "format": "uri"}, "model": {"type": "string", "minLength": 1, "maxLength": 200},
                      "queryModel": {"type": "string", "maxLength": 200, "description": "the model questions are embedded with (default: model)"},
                      "apiKey": {"type": "string", "maxLength": 500, "writeOnly": True, "description": "left out keeps the stored key; empty removes it"}}})),
        "delete": op("Remove the configured embeddings provider (admins)", "assistant", {"204": {"description": "Removed"}, **err("401", "403")})},
    "/api/v1/admin/chats/{chat}/assistant": {"post": op("Hand an escalated or agent-held conversation back to the assistant (its reply budget starts again); 409 otherwise", "conversations",
                                                        {**ok(ref("Session")), **err("401", "403", "404", "409")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/reviews": {"get": op("Agents' marks on the assistant's answers in this conversation", "conversations",
                                                     {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("Review")}}}), **err("401", "403", "404")}, parameters=idp("chat"))},
    "/api/v1/admin/chats/{chat}/messages/{message}/review": {"post": op("Mark one of the assistant's answers right or wrong (null clears the mark); the accuracy report counts the marks", "conversations",
                                                                        {**ok(ref("Review")), **UNSAFE}, parameters=idp("chat", "message"),
                                                                        requestBody=body({"type": "object", "properties": {"verdict": {"type": ["string", "null"], "enum": ["right", "wrong", None]}}}))},
    "/api/v1/admin/ai/interactions": {"get": op("The assistant's latest 200 interactions: outcome, provider, model, latency, tokens, confidence, citations, feedback", "assistant",
                                                {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("Interaction")}}}), **err("401", "403")})},
    "/api/v1/admin/tickets": {"get": op("Tickets with filters (status, priority, assignee=me|unassigned|<id>, tag, source, sla=breached|warning, from, to), full-text search q over subject and messages (every word), sort=newest|oldest|updated, keyset paging", "tickets",
                                        {**ok(ref("TicketPage")), **err("401", "403", "422")},
                                        parameters=PAGE + [query("status", {"type": "string"}, "Comma-separated statuses"), query("priority", {"type": "string"}, "Comma-separated priorities"),
                                                           query("assignee", {"type": "string"}, "me, unassigned or an agent id"), query("tag", {"type": "string"}),
                                                           query("source", {"type": "string", "enum": ["form", "chat", "email"]}), query("sla", {"type": "string", "enum": ["breached", "warning"]}),
                                                           query("from", {"type": "string", "format": "date"}), query("to", {"type": "string", "format": "date"}),
                                                           query("q", {"type": "string", "maxLength": 500}), query("sort", {"type": "string", "enum": ["newest", "oldest", "updated"]})])},
    "/api/v1/admin/tickets/counts": {"get": op("How many tickets are in each status", "tickets", {**ok({"type": "object", "additionalProperties": {"type": "integer"}}), **err("401", "403")})},
    "/api/v1/admin/tickets/bulk": {"post": op("One action (status, assign, priority, tags) on up to 100 tickets; each succeeds or fails alone", "tickets",
                                              {**ok({"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "ok": {"type": "boolean"}, "error": {"type": ["string", "null"]}}}}}}), **UNSAFE},
                                              requestBody=body({"type": "object", "required": ["ids", "action"], "properties": {"ids": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
                                                  "action": {"type": "string", "enum": ["status", "assign", "priority", "tags"]}, "status": {"type": "string"}, "agentId": {"type": ["string", "null"]},
                                                  "priority": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}))},
    "/api/v1/admin/tickets/{ticket}": {"get": op("A ticket with its thread (internal notes included, flagged), SLA states and the statuses allowed next", "tickets", {**ok(ref("Ticket")), **err("401", "403", "404")}, parameters=idp("ticket"))},
    "/api/v1/admin/tickets/{ticket}/reply": {"post": op("A public reply (the customer's turn next) or, with internal: true, a note only agents see", "tickets",
                                                        {**ok(ref("Ticket"), "201", "Stored"), **UNSAFE, **err("409")}, parameters=idp("ticket"),
                                                        requestBody=body({"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 10000}, "internal": {"type": "boolean"}, "attachments": {"type": "array", "maxItems": 10, "items": {"type": "string", "format": "uuid"}, "description": "Files uploaded to the ticket beforehand"}}}))},
    "/api/v1/admin/tickets/{ticket}/attachments": {"post": op("Upload an image or a PDF to the ticket (the raw file as the body), to send with a reply or note", "tickets",
        {**ok({"type": "object", "properties": {"attachment": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "contentType": {"type": "string"}, "size": {"type": "integer"}, "url": {"type": "string"}}}}}, "201", "Stored"), **UNSAFE, **err("429")}, parameters=idp("ticket") + [query("name", {"type": "string"})], requestBody={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/octet-stream"]}})},
    "/api/v1/admin/tickets/{ticket}/assign": {"post": op("Assign to an agent (or null); assigning an open ticket starts it", "tickets", {**ok(ref("Ticket")), **UNSAFE, **err("409")}, parameters=idp("ticket"),
                                                         requestBody=body({"type": "object", "properties": {"agentId": {"type": ["string", "null"], "format": "uuid"}}}))},
    "/api/v1/admin/tickets/{ticket}/status": {"post": op("Set the status; a transition the lifecycle forbids is 409 naming both states", "tickets", {**ok(ref("Ticket")), **UNSAFE, **err("409")}, parameters=idp("ticket"),
                                                         requestBody=body({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["open", "pending", "in_progress", "waiting_on_customer", "resolved", "closed"]}}}))},
    "/api/v1/admin/tickets/{ticket}/priority": {"post": op("Set the priority; the SLA deadlines follow", "tickets", {**ok(ref("Ticket")), **UNSAFE, **err("409")}, parameters=idp("ticket"),
                                                           requestBody=body({"type": "object", "required": ["priority"], "properties": {"priority": {"type": "string", "enum": ["low", "medium", "high", "urgent"]}}}))},
    "/api/v1/admin/tickets/{ticket}/tags": {"post": op("Replace the tags", "tickets", {**ok(ref("Ticket")), **UNSAFE}, parameters=idp("ticket"),
                                                       requestBody=body({"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "maxItems": 20, "items": {"type": "string"}}}}))},
    "/api/v1/admin/tickets/{ticket}/drafts": {
        "get": op("The assistant's drafted replies to the ticket, newest first, with what became of each (pending, accepted, edited, dismissed, superseded, auto_sent)", "tickets",
                  {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("TicketDraft")}}}), **err("401", "403", "404")}, parameters=idp("ticket")),
        "post": op("Draft a reply now (the assistant also drafts one for each customer message); 422 no_draft when nothing in the knowledge base answers", "tickets",
                   {**ok(ref("TicketDraft"), "201", "Drafted"), **err("401", "403", "404", "422")}, parameters=idp("ticket"))},
    "/api/v1/admin/tickets/{ticket}/drafts/{draft}/accept": {"post": op("Send the draft as your reply: as drafted, or with body as you edited it (409 if already decided)", "tickets",
        {**ok({"type": "object", "properties": {"draft": ref("TicketDraft"), "ticket": {"type": "object"}}}), **UNSAFE, **err("409")}, parameters=idp("ticket", "draft"),
        requestBody=body({"type": "object", "properties": {"body": {"type": "string", "maxLength": 10000}}}, required=False))},
    "/api/v1/admin/tickets/{ticket}/drafts/{draft}/dismiss": {"post": op("Dismiss the draft (kept in the history)", "tickets",
        {**ok(ref("TicketDraft")), **err("401", "403", "404", "409")}, parameters=idp("ticket", "draft"))},
    "/api/v1/admin/inbound/email": {"post": op("An email received at the support address (a mail provider's inbound webhook, with an API key): a reply to Parley's email ([#1a2b3c4d] in the subject) from the requester is the customer's reply, from an active agent of the organization that agent's reply; a reply to a conversation's email ([#c-1a2b3c4d], from its visitor) goes on in the conversation; anything else opens a ticket with source email. Quoted text is cut; automatic replies are ignored (202)", "tickets",
        {**ok({"type": "object", "properties": {"outcome": {"type": "string", "enum": ["reply", "agent_reply", "message", "created", "ignored"]}, "ticketId": {"type": ["string", "null"]}, "conversationId": {"type": ["string", "null"]}}}), **ok({"type": "object"}, "201", "A new ticket"), **ok({"type": "object"}, "202", "Ignored (automatic)"), **UNSAFE},
        requestBody=body({"type": "object", "required": ["from", "text"], "properties": {"from": {"type": "string", "format": "email"}, "name": {"type": "string"}, "subject": {"type": "string"}, "text": {"type": "string"}, "autoSubmitted": {"type": "string", "description": "The Auto-Submitted header, if any"}}}))},
    "/api/v1/admin/canned-responses": {
        "get": op("Canned responses, most used first; q narrows by shortcut prefix (the / picker)", "canned responses",
                  {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("CannedResponse")}}}), **err("401", "403", "422")}, parameters=[query("q", {"type": "string"})]),
        "post": op("Create one (admins); the shortcut is unique in the organization", "canned responses", {**ok(ref("CannedResponse"), "201", "Created"), **UNSAFE, **err("409")}, requestBody=body(ref("CannedResponseInput")))},
    "/api/v1/admin/canned-responses/{response}": {
        "patch": op("Replace one (admins)", "canned responses", {**ok(ref("CannedResponse")), **UNSAFE, **err("409")}, parameters=idp("response"), requestBody=body(ref("CannedResponseInput"))),
        "delete": op("Delete one (admins)", "canned responses", {"204": {"description": "Deleted"}, **err("401", "403", "404")}, parameters=idp("response"))},
    "/api/v1/admin/canned-responses/{response}/use": {"post": op("The body with {{visitor.name}}, {{visitor.email}}, {{agent.name}}, {{ticket.id}} filled in for a ticket or a conversation; counts the use", "canned responses",
                                                                 {**ok({"type": "object", "properties": {"body": {"type": "string"}}}), **UNSAFE}, parameters=idp("response"),
                                                                 requestBody=body({"type": "object", "properties": {"ticketId": {"type": "string", "format": "uuid"}, "sessionId": {"type": "string", "format": "uuid"}}}))},
    "/api/v1/admin/audit-log": {"get": op("Who did what to which ticket and when (admins), newest first; entity=<id> for one ticket", "audit",
                                          {**ok(ref("AuditPage")), **err("401", "403", "422")}, parameters=PAGE + [query("entity", {"type": "string"})])},
    "/api/v1/admin/notifications": {"get": op("The signed-in agent's notifications (assignment, customer_reply, sla_warning, sla_breach), newest first, with the unread count; unread=true for unread only", "notifications",
                                              {**ok({"type": "object", "properties": {"data": {"type": "array", "items": ref("Notification")}, "nextCursor": {"type": ["string", "null"]}, "unread": {"type": "integer"}}}), **err("401", "403", "422")},
                                              parameters=PAGE + [query("unread", {"type": "boolean"})])},
    "/api/v1/admin/notifications/read": {"post": op("Mark notifications read: the ids given, or all", "notifications",
                                                    {**ok({"type": "object", "properties": {"updated": {"type": "integer"}, "unread": {"type": "integer"}}}), **UNSAFE},
                                                    requestBody=body({"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}}}))},
    "/api/v1/admin/export/tickets": {"get": op("Export tickets (admins) as CSV or JSON, streamed, with the list's filters; CSV cells that could run as formulas are neutralised; no messages, so no internal notes", "export",
                                               {"200": {"description": "An attachment", "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}, **err("401", "403", "422")},
                                               parameters=[query("format", {"type": "string", "enum": ["csv", "json"]}), query("status", {"type": "string"}), query("priority", {"type": "string"}), query("assignee", {"type": "string"}),
                                                           query("tag", {"type": "string"}), query("source", {"type": "string"}), query("sla", {"type": "string"}), query("from", {"type": "string", "format": "date"}),
                                                           query("to", {"type": "string", "format": "date"}), query("q", {"type": "string"}), query("sort", {"type": "string"})])},
    "/api/v1/admin/export/conversations": {"get": op("Export conversations (admins) as CSV or JSON, streamed, with the list's filters", "export",
                                                     {"200": {"description": "An attachment", "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}, **err("401", "403", "422")},
                                                     parameters=[query("format", {"type": "string", "enum": ["csv", "json"]}), query("status", {"type": "string"}), query("assigned", {"type": "string"}),
                                                                 query("archived", {"type": "boolean"}), query("escalated", {"type": "boolean"}), query("from", {"type": "string", "format": "date"}), query("to", {"type": "string", "format": "date"})])},
    "/api/v1/admin/analytics": {"get": op("Support figures for a date range (to inclusive; 30 days by default, 366 at most): volume per day, first response and resolution (median, p90; agents only, never the assistant), CSAT, SLA compliance, the assistant's handoff and resolution rates (confirmed and assumed apart), an agent leaderboard", "analytics",
                                          {**ok({"type": "object"}), **err("401", "403", "422")},
                                          parameters=[query("from", {"type": "string", "format": "date"}), query("to", {"type": "string", "format": "date"})])},
    "/api/v1/admin/analytics/ai": {"get": op("The assistant's accuracy for a date range: answers, thumbs up and down, handoffs by reason, and the questions it could not answer (the knowledge base's gaps), most asked first", "analytics",
        {**ok({"type": "object", "properties": {"answers": {"type": "integer"}, "thumbsUp": {"type": "integer"}, "thumbsDown": {"type": "integer"},
            "reviewedRight": {"type": "integer", "description": "answers agents marked right"}, "reviewedWrong": {"type": "integer", "description": "answers agents marked wrong"}, "handoffs": {"type": "integer"},
            "handoffReasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "gaps": {"type": "array", "items": {"type": "object", "properties": {"question": {"type": "string"}, "count": {"type": "integer"}, "lastAskedAt": {"type": "string", "format": "date-time"}}}}}}), **err("401", "403", "422")},
        parameters=[query("from", {"type": "string", "format": "date"}), query("to", {"type": "string", "format": "date"})])},
    "/api/v1/admin/sla-policies": {
        "get": op("SLA policies per priority (defaults until set)", "tickets", {**ok(ref("SLAPolicies")), **err("401", "403")}),
        "put": op("Replace the SLA policies (admins); a priority left out has no SLA", "tickets", {**ok(ref("SLAPolicies")), **UNSAFE}, requestBody=body(ref("SLAPolicies")))},
    "/api/v1/admin/settings/business-hours": {
        "get": op("Business hours: time zone, weekly hours, holidays (no hours: always open)", "tickets", {**ok(ref("BusinessHours")), **err("401", "403")}),
        "put": op("Set the business hours (admins)", "tickets", {**ok(ref("BusinessHours")), **UNSAFE}, requestBody=body(ref("BusinessHours")))},
    "/api/v1/tickets": {
        "get": op("The identified visitor's own tickets (403 for anonymous visitors)", "customer tickets", {**ok(ref("TicketPage")), **err("401", "403", "422")}, VISITOR, parameters=PAGE),
        "post": op("The offline form: open a ticket (an identified visitor, or anyone giving an email)", "customer tickets", {**ok(ref("Ticket"), "201", "Created"), **UNSAFE}, VISITOR,
                   requestBody=body({"type": "object", "required": ["subject", "body"], "properties": {"subject": {"type": "string", "maxLength": 200}, "body": {"type": "string", "maxLength": 10000}, "email": {"type": "string", "format": "email"}, "name": {"type": "string", "maxLength": 120}}}))},
    "/api/v1/tickets/{ticket}": {"get": op("One of the visitor's tickets, without internal notes", "customer tickets", {**ok(ref("Ticket")), **err("401", "403", "404")}, VISITOR, parameters=idp("ticket"))},
    "/api/v1/tickets/{ticket}/reply": {"post": op("Reply (a resolved ticket reopens; a closed one is 409)", "customer tickets", {**ok(ref("Ticket"), "201", "Stored"), **UNSAFE, **err("409")}, VISITOR, parameters=idp("ticket"),
                                                  requestBody=body({"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 10000}, "attachments": {"type": "array", "maxItems": 10, "items": {"type": "string", "format": "uuid"}, "description": "Files uploaded to the ticket beforehand"}}}))},
    "/api/v1/tickets/{ticket}/attachments": {"post": op("Upload an image or a PDF to your ticket, to send with a reply; download it at /api/v1/chat/attachments/{id} once sent", "customer tickets",
        {**ok({"type": "object", "properties": {"attachment": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "contentType": {"type": "string"}, "size": {"type": "integer"}, "url": {"type": "string"}}}}}, "201", "Stored"), **UNSAFE, **err("429")}, VISITOR, parameters=idp("ticket") + [query("name", {"type": "string"})], requestBody={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/octet-stream"]}})},
    "/api/v1/tickets/{ticket}/close": {"post": op("Close the ticket", "customer tickets", {**ok(ref("Ticket")), **err("401", "403", "404", "409")}, VISITOR, parameters=idp("ticket"))},
    "/api/v1/tickets/{ticket}/reopen": {"post": op("Reopen a resolved ticket", "customer tickets", {**ok(ref("Ticket")), **err("401", "403", "404", "409")}, VISITOR, parameters=idp("ticket"))},
    "/api/v1/tickets/{ticket}/rate": {"post": op("Rate a resolved or closed ticket, once: 1 to 5 stars and a comment", "customer tickets", {**ok(ref("Ticket")), **UNSAFE, **err("409")}, VISITOR, parameters=idp("ticket"),
                                                 requestBody=body({"type": "object", "required": ["stars"], "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string", "maxLength": 2000}}}))},
    "/api/v1/admin/settings/email": {
        "get": op("Email: whether a mail server is configured, its sender address, and the organization's sender name and reply address", "settings", {**ok(ref("EmailSettings")), **err("401", "403")}),
        "put": op("The organization's sender name (default: PARLEY_MAIL_FROM_NAME, else its name) and reply address (Reply-To of emails to customers; default: the sender); empty means the default", "settings", {**ok(ref("EmailSettings")), **UNSAFE}, requestBody=body(ref("EmailSettings")))},
    "/api/v1/admin/agents/invite": {"post": op("Invites a teammate by email: the agent exists at once, with a password nobody knows; the email's single-use link (48 hours) lets them choose it (409 when no mail server is configured)", "team", {**ok(ref("Agent"), "201", "Invited"), **UNSAFE, **err("409")}, requestBody=body({"type": "object", "required": ["email", "role"], "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string", "enum": ["owner", "admin", "agent"]}}}))},
    "/api/v1/admin/agents": {
        "get": op("List the team (any role)", "agents", {**ok(ref("AgentPage")), **err("401", "422")}, parameters=PAGE),
        "post": op("Add an agent (admins; owners to add owners)", "agents", {**ok(ref("Agent"), "201", "Created"), **UNSAFE, **err("409")}, requestBody=body(ref("NewAgent")))},
    "/api/v1/admin/agents/{agent}": {
        "get": op("One agent", "agents", {**ok(ref("Agent")), **err("401", "404")}, parameters=idp("agent")),
        "patch": op("Change name, role, active state or password (ends their sessions)", "agents", {**ok(ref("Agent")), **UNSAFE, **err("409")}, parameters=idp("agent"), requestBody=body(ref("AgentChange"))),
        "delete": op("Deactivate an agent (never deletes)", "agents", {**ok(ref("Agent")), **err("401", "403", "404", "409")}, parameters=idp("agent"))},
    "/api/v1/admin/sites": {
        "get": op("List sites (admins)", "sites", {**ok(ref("SitePage")), **err("401", "403", "422")}, parameters=PAGE),
        "post": op("Create a site (admins)", "sites", {**ok(ref("Site"), "201", "Created"), **UNSAFE}, requestBody=body(ref("NewSite")))},
    "/api/v1/admin/sites/{site}": {
        "get": op("One site", "sites", {**ok(ref("Site")), **err("401", "403", "404")}, parameters=idp("site")),
        "patch": op("Update a site; widget fields sent replace, others stay", "sites", {**ok(ref("Site")), **UNSAFE}, parameters=idp("site"), requestBody=body(ref("SiteChange")))},
    "/api/v1/admin/sites/{site}/rotate-secret": {"post": op("Replace the identity (userHash) secret", "sites", {**ok(ref("Site")), **err("401", "403", "404")}, parameters=idp("site"))},
    "/api/v1/admin/api-keys": {
        "get": op("List API keys (admins; never their secrets)", "api-keys", {**ok(ref("APIKeyPage")), **err("401", "403", "422")}, parameters=PAGE),
        "post": op("Create an API key; the secret is in this response only", "api-keys", {**ok(ref("CreatedAPIKey"), "201", "Created"), **UNSAFE}, requestBody=body(ref("NewAPIKey")))},
    "/api/v1/admin/api-keys/{key}": {"delete": op("Revoke an API key", "api-keys", {**ok(ref("APIKey")), **err("401", "403", "404")}, parameters=idp("key"))},
    "/api/v1/admin/webhooks": {
        "get": op("List webhook endpoints and the event types (admins)", "webhooks", {**ok(ref("WebhookEndpointList")), **err("401", "403")}),
        "post": op("Add an endpoint; its signing secret is in this response only (422 when the URL is refused)", "webhooks", {**ok(ref("WebhookEndpoint"), "201", "Created"), **UNSAFE}, requestBody=body(ref("WebhookEndpointInput")))},
    "/api/v1/admin/webhooks/{endpoint}": {
        "get": op("An endpoint", "webhooks", {**ok(ref("WebhookEndpoint")), **err("401", "403", "404")}, parameters=idp("endpoint")),
        "patch": op("Change an endpoint's URL, events, description or active flag", "webhooks", {**ok(ref("WebhookEndpoint")), **UNSAFE}, parameters=idp("endpoint"), requestBody=body(ref("WebhookEndpointInput"))),
        "delete": op("Remove an endpoint and its deliveries", "webhooks", {"204": {"description": "Removed"}, **err("401", "403", "404")}, parameters=idp("endpoint"))},
    "/api/v1/admin/webhooks/{endpoint}/secret": {"post": op("Roll the signing secret (the new one is in this response only)", "webhooks", {**ok(ref("WebhookEndpoint")), **err("401", "403", "404")}, parameters=idp("endpoint"))},
    "/api/v1/admin/webhooks/{endpoint}/test": {"post": op("Send a webhook.test event", "webhooks", {**ok(ref("WebhookDelivery"), "202", "Queued"), **err("401", "403", "404")}, parameters=idp("endpoint"))},
    "/api/v1/admin/webhooks/{endpoint}/deliveries": {"get": op("The endpoint's delivery log, newest first", "webhooks", {**ok(ref("WebhookDeliveryPage")), **err("401", "403", "404", "422")}, parameters=idp("endpoint") + PAGE)},
    "/api/v1/admin/webhooks/{endpoint}/deliveries/{delivery}/retry": {"post": op("Send a delivery again now, with the same webhook-id", "webhooks", {**ok(ref("WebhookDelivery")), **err("401", "403", "404", "409")},
        parameters=idp("endpoint") + [{"name": "delivery", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/api/v1/admin/outbox": {"get": op("Side effects that leave the server (webhook deliveries, emails) by status; dead letters by default", "outbox", {**ok(ref("OutboxItemPage")), **err("401", "403", "422")},
        parameters=[query("status", {"type": "string", "enum": ["dead", "pending", "running", "delivered"], "default": "dead"})] + PAGE)},
    "/api/v1/admin/outbox/{item}": {"delete": op("Discard a dead letter", "outbox", {"204": {"description": "Discarded"}, **err("401", "403", "404", "409")},
        parameters=[{"name": "item", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/api/v1/admin/outbox/{item}/retry": {"post": op("Retry a dead letter now, with a fresh retry budget", "outbox", {**ok(ref("OutboxItem")), **err("401", "403", "404", "409")},
        parameters=[{"name": "item", "in": "path", "required": True, "schema": {"type": "string"}}])},
}

role = {"type": "string", "enum": ["owner", "admin", "agent"]}
ts = {"type": "string", "format": "date-time"}
nts = {"type": ["string", "null"], "format": "date-time"}
uuid = {"type": "string", "format": "uuid"}
widget = {"type": "object", "properties": {
    "title": {"type": "string", "maxLength": 80}, "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    "welcomeMessage": {"type": "string", "maxLength": 1000}, "launcherText": {"type": "string", "maxLength": 40},
    "position": {"type": "string", "enum": ["left", "right"]}, "supportEmail": {"type": ["string", "null"], "format": "email"}, "enabled": {"type": "boolean"}}}
def page(n): return {"type": "object", "required": ["data", "nextCursor"], "properties": {"data": {"type": "array", "items": ref(n)}, "nextCursor": {"type": ["string", "null"]}}}
schemas = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}}},
    "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "LoginRequest": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}},
    "PasswordChange": {"type": "object", "required": ["currentPassword", "newPassword"], "properties": {"currentPassword": {"type": "string"}, "newPassword": {"type": "string", "minLength": 10}}},
    "EmailSettings": {"type": "object", "properties": {"configured": {"type": "boolean", "readOnly": True}, "from": {"type": ["string", "null"], "readOnly": True},
        "fromName": {"type": ["string", "null"], "maxLength": 80}, "replyTo": {"type": ["string", "null"], "format": "email"}}},
    "Agent": {"type": "object", "required": ["id", "email", "name", "role", "isActive", "createdAt", "updatedAt"], "properties": {
        "id": uuid, "email": {"type": "string"}, "name": {"type": "string"}, "role": role, "isActive": {"type": "boolean"}, "createdAt": ts, "updatedAt": ts}},
    "AgentPage": page("Agent"),
    "NewAgent": {"type": "object", "required": ["email", "role", "password"], "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}, "role": role, "password": {"type": "string", "minLength": 10}}},
    "AgentChange": {"type": "object", "properties": {"name": {"type": "string"}, "role": role, "isActive": {"type": "boolean"}, "password": {"type": "string", "minLength": 10}}},
    "Organization": {"type": "object", "required": ["id", "name"], "properties": {"id": uuid, "name": {"type": "string"}}},
    "Me": {"type": "object", "required": ["organization", "role", "permissions"], "properties": {"emailConfigured": {"type": "boolean", "description": "Whether a mail server is configured"}, 
        "agent": ref("Agent"), "apiKey": ref("APIKey"), "organization": ref("Organization"), "role": role, "permissions": {"type": "array", "items": {"type": "string"}},
        "csrfToken": {"type": "string", "description": "Echo in X-CSRF-Token on unsafe requests made with the session cookie"}}},
    "WidgetSettings": widget,
    "Site": {"type": "object", "required": ["id", "name", "publicKey", "identitySecret", "strictIdentity", "allowedOrigins", "widget", "isActive", "embedSnippet", "createdAt", "updatedAt"], "properties": {
        "id": uuid, "name": {"type": "string"}, "publicKey": {"type": "string"}, "identitySecret": {"type": "string"}, "strictIdentity": {"type": "boolean"},
        "allowedOrigins": {"type": "array", "items": {"type": "string"}}, "widget": ref("WidgetSettings"), "isActive": {"type": "boolean"}, "embedSnippet": {"type": "string"}, "createdAt": ts, "updatedAt": ts}},
    "SitePage": page("Site"),
    "NewSite": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 120}, "allowedOrigins": {"type": "array", "maxItems": 50, "items": {"type": "string"}}, "widget": ref("WidgetSettings"), "strictIdentity": {"type": "boolean"}}},
    "SiteChange": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 120}, "allowedOrigins": {"type": "array", "maxItems": 50, "items": {"type": "string"}}, "widget": ref("WidgetSettings"), "strictIdentity": {"type": "boolean"}, "isActive": {"type": "boolean"}}},
    "APIKey": {"type": "object", "required": ["id", "name", "prefix", "role", "createdAt"], "properties": {
        "id": uuid, "name": {"type": "string"}, "prefix": {"type": "string"}, "role": role, "createdBy": {"type": ["string", "null"]}, "createdAt": ts, "lastUsedAt": nts, "revokedAt": nts}},
    "APIKeyPage": page("APIKey"),
    "WebhookEndpoint": {"type": "object", "required": ["id", "url", "events", "active", "createdAt", "updatedAt"], "properties": {
        "id": uuid, "url": {"type": "string"}, "description": {"type": ["string", "null"]}, "events": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"}, "createdAt": ts, "updatedAt": ts, "secret": {"type": "string", "description": "whsec_…; only when created or rolled"}}},
    "WebhookEndpointInput": {"type": "object", "properties": {"url": {"type": "string", "maxLength": 2000}, "description": {"type": "string", "maxLength": 200},
        "events": {"type": "array", "items": {"type": "string", "enum": ["conversation.created", "message.created", "conversation.escalated", "conversation.closed",
            "ticket.created", "ticket.updated", "ticket.replied", "ticket.rated", "feedback.created"]}}, "active": {"type": "boolean"}}},
    "WebhookDeliveryPage": page("WebhookDelivery"),
    "OutboxItemPage": page("OutboxItem"),
    "WebhookEndpointList": {"type": "object", "required": ["data", "eventTypes"], "properties": {"data": {"type": "array", "items": ref("WebhookEndpoint")}, "eventTypes": {"type": "array", "items": {"type": "string"}}}},
    "WebhookDelivery": {"type": "object", "required": ["id", "eventType", "status", "attempts", "createdAt"], "properties": {
        "id": {"type": "string", "description": "The webhook-id header"}, "eventType": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "delivered", "dead"]},
        "attempts": {"type": "integer"}, "responseStatus": {"type": ["integer", "null"]}, "latencyMs": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]},
        "responseExcerpt": {"type": ["string", "null"], "description": "At most 1 KB"}, "createdAt": ts, "lastAttemptAt": nts, "nextAttemptAt": nts, "deliveredAt": nts}},
    "OutboxItem": {"type": "object", "required": ["id", "kind", "summary", "attempts", "createdAt", "updatedAt"], "properties": {
        "id": {"type": "string"}, "kind": {"type": "string", "enum": ["webhook", "email"]}, "summary": {"type": "string"}, "attempts": {"type": "integer"},
        "error": {"type": ["string", "null"]}, "createdAt": ts, "updatedAt": ts}},
    "NewAPIKey": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 120}, "role": {"type": "string", "enum": ["admin", "agent"], "default": "agent"}}},
    "CreatedAPIKey": {"type": "object", "required": ["key", "secret"], "properties": {"key": ref("APIKey"), "secret": {"type": "string", "description": "Shown once"}}},
    "Preferences": {"type": "object", "required": ["notifications"], "properties": {"notifications": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "email": {"type": "object", "additionalProperties": {"type": "boolean"}, "description": "By kind: also by email (default: assignment, sla_warning and sla_breach); left out: unchanged"},
        "sound": {"type": "boolean", "description": "The dashboard plays a sound for a new conversation, a handoff and a customer's reply on your conversations or tickets (default off); left out: unchanged"},
        "desktop": {"type": "boolean", "description": "The same as desktop notifications, once the browser grants permission (default off); left out: unchanged"}}},
    "WidgetConfig": {"type": "object", "required": ["enabled", "site", "ai"], "properties": {
        "email": {"type": "boolean", "description": "Whether a reply can reach the visitor by email (a mail server is configured)"},
        "enabled": {"type": "boolean"}, "reason": {"type": ["string", "null"]}, "site": {"type": "string"}, "title": {"type": "string"}, "color": {"type": "string"},
        "welcomeMessage": {"type": "string"}, "launcherText": {"type": "string"}, "position": {"type": "string"},
        "ai": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}, "withinBusinessHours": {"type": ["boolean", "null"]},
        "available": {"type": ["boolean", "null"], "description": "Someone answers now: the team (within business hours) or the AI (a provider is configured); false: show the offline form"}}},
    "VisitorIdentity": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "name": {"type": "string"},
        "userHash": {"type": "string", "description": "HMAC-SHA256 of id under the site's identity secret, hex"}}},
    "StartSession": {"type": "object", "required": ["site"], "properties": {"site": {"type": "string"}, "visitorId": {"type": "string", "maxLength": 100}, "user": ref("VisitorIdentity"), "page": {"type": "string"}}},
    "Session": {"type": "object", "required": ["id", "status", "lastSeq"], "properties": {
        "id": uuid, "status": {"type": "string", "enum": ["ai_active", "agent_active", "escalated", "closed"]}, "lastSeq": {"type": "integer"},
        "visitorReadSeq": {"type": "integer"}, "agentReadSeq": {"type": "integer"}, "siteId": uuid, "visitorId": uuid, "assignedAgentId": {"type": ["string", "null"]},
        "lastMessagePreview": {"type": ["string", "null"]}, "lastMessageRole": {"type": ["string", "null"]}, "lastAuthorId": {"type": ["string", "null"]}, "lastMessageAt": nts, "unread": {"type": "boolean"},
        "createdAt": ts, "updatedAt": ts, "closedAt": nts, "archivedAt": nts,
        "ticketId": {"type": ["string", "null"], "description": "The ticket this conversation is one thread with, while it is not closed"},
        "satisfaction": {"type": ["object", "null"], "description": "The visitor's rating once it ended", "properties": {"stars": {"type": "integer"}, "comment": {"type": ["string", "null"]}, "ratedAt": ts}}}},
    "Message": {"type": "object", "required": ["id", "sessionId", "seq", "role", "body", "createdAt"], "properties": {
        "id": uuid, "sessionId": uuid, "seq": {"type": "integer"}, "role": {"type": "string", "enum": ["user", "ai", "agent", "system"]},
        "authorAgentId": {"type": ["string", "null"]}, "body": {"type": "string"}, "clientId": {"type": ["string", "null"]}, "createdAt": ts,
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "attachments": {"type": "array", "items": {"type": "object", "properties": {"id": uuid, "name": {"type": "string"}, "contentType": {"type": "string"}, "size": {"type": "integer"},
            "url": {"type": "string", "description": "The visitor's address; agents use /api/v1/admin/attachments/{id}"}}}}}},
    "NewMessage": {"type": "object", "required": ["clientId", "body"], "properties": {"clientId": {"type": "string", "maxLength": 100}, "body": {"type": "string", "maxLength": 10000}}},
    "StartedSession": {"type": "object", "required": ["visitorId", "token", "session", "messages"], "properties": {
        "visitorId": {"type": "string"}, "token": {"type": "string"}, "identified": {"type": "boolean"}, "session": ref("Session"), "messages": {"type": "array", "items": ref("Message")},
        "email": {"type": ["string", "null"], "description": "The email the visitor left or their identity gave"}}},
    "VisitorMessages": {"type": "object", "required": ["data", "lastSeq"], "properties": {"data": {"type": "array", "items": ref("Message")}, "lastSeq": {"type": "integer"}, "status": {"type": "string"},
        "agentReadSeq": {"type": "integer"}, "through": {"type": "integer", "description": "The seq this page covers up to (ask after=through next)"}}},
    "EmailLeft": {"type": "object", "properties": {"email": {"type": "string"}, "ticketId": {"type": ["string", "null"], "format": "uuid"}}},
    "FeedbackResult": {"type": "object", "properties": {"rating": {"type": "string"}, "offerTicket": {"type": "boolean"}}},
    "AutoReplyRule": {"type": "object", "required": ["match", "pattern", "reply"], "properties": {
        "match": {"type": "string", "enum": ["exact", "contains", "keyword"]}, "pattern": {"type": "string", "maxLength": 200}, "reply": {"type": "string", "maxLength": 2000}}},
    "AssistantSettings": {"type": "object", "required": ["systemPrompt", "welcomeMessage", "contextMessages", "maxMessagesBeforeEscalation", "confidenceThreshold", "autoReplyRules"], "properties": {
        "systemPrompt": {"type": "string", "maxLength": 4000}, "welcomeMessage": {"type": "string", "maxLength": 500},
        "contextMessages": {"type": "integer", "minimum": 1, "maximum": 50}, "maxMessagesBeforeEscalation": {"type": "integer", "minimum": 1, "maximum": 100},
        "confidenceThreshold": {"type": "number", "minimum": 0, "maximum": 1}, "autoReplyRules": {"type": "array", "maxItems": 100, "items": ref("AutoReplyRule")},
        "autoResolveThreshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "New tickets whose drafted answer reaches this confidence are answered and resolved by the assistant (aiResolved); null: off"},
        "groundingThreshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6, "description": "The grounding gate: an answer whose content words the cited (or retrieved) passages support less than this is not shown as AI prose; the best passage is offered, or the conversation handed over"},
        "maxAnswerWords": {"type": "integer", "minimum": 20, "maximum": 1000, "default": 150, "description": "The longest answer, in words (the prompt says so; max_tokens is 2 per word plus 80)"},
        "imagePrompt": {"type": ["string", "null"], "maxLength": 2000, "description": "What the assistant does with an image a visitor sends, to providers with vision; null leaves images to the team"}}},
    "ProviderInput": {"type": "object", "required": ["kind", "name", "model"], "properties": {
        "kind": {"type": "string", "enum": ["openai", "anthropic", "gemini"]}, "name": {"type": "string", "maxLength": 80}, "baseUrl": {"type": "string", "format": "uri"},
        "model": {"type": "string", "maxLength": 200}, "apiKey": {"type": "string", "maxLength": 500, "writeOnly": True}, "enabled": {"type": "boolean"}, "position": {"type": "integer", "minimum": 0, "maximum": 1000},
        "vision": {"type": "boolean", "default": False, "description": "the model reads images: visitors' images go only to such providers"}}},
    "Provider": {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "kind": {"type": "string"}, "name": {"type": "string"}, "baseUrl": {"type": "string"}, "model": {"type": "string"},
        "hasApiKey": {"type": "boolean"}, "enabled": {"type": "boolean"}, "position": {"type": "integer"}, "vision": {"type": "boolean"},
        "health": {"type": "object", "properties": {"healthy": {"type": ["boolean", "null"]}, "lastError": {"type": ["string", "null"]}, "checkedAt": {"type": ["string", "null"], "format": "date-time"}}},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}}},
    "Interaction": {"type": "object", "properties": {
        "id": {"type": "string"}, "sessionId": {"type": "string"}, "question": {"type": "string"},
        "outcome": {"type": "string", "enum": ["answer", "resolve", "article", "auto_reply", "handoff", "failed"]}, "reason": {"type": ["string", "null"]},
        "messageId": {"type": ["string", "null"]}, "provider": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]},
        "latencyMs": {"type": ["integer", "null"]}, "firstTokenMs": {"type": ["integer", "null"]}, "promptTokens": {"type": ["integer", "null"]}, "completionTokens": {"type": ["integer", "null"]},
        "confidence": {"type": ["number", "null"]}, "citations": {"type": "array", "items": {"type": "string"}},
        "feedback": {"type": ["string", "null"], "enum": ["up", "down", None]}, "feedbackComment": {"type": ["string", "null"]}, "createdAt": {"type": "string", "format": "date-time"}}},
    "Ticket": {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "subject": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "pending", "in_progress", "waiting_on_customer", "resolved", "closed"]},
        "priority": {"type": "string", "enum": ["low", "medium", "high", "urgent"]}, "source": {"type": "string", "enum": ["form", "chat", "email"]},
        "requesterEmail": {"type": "string"}, "requesterName": {"type": ["string", "null"]}, "visitorId": {"type": ["string", "null"]}, "chatSessionId": {"type": ["string", "null"]},
        "lastSeq": {"type": "integer"}, "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
        "assigneeId": {"type": ["string", "null"]}, "tags": {"type": "array", "items": {"type": "string"}}, "category": {"type": ["string", "null"]},
        "satisfaction": {"type": ["object", "null"], "properties": {"stars": {"type": "integer"}, "comment": {"type": ["string", "null"]}, "ratedAt": {"type": "string", "format": "date-time"}}},
        "aiResolved": {"type": "boolean"}, "firstResponseAt": {"type": ["string", "null"], "format": "date-time"}, "resolvedAt": {"type": ["string", "null"], "format": "date-time"},
        "closedAt": {"type": ["string", "null"], "format": "date-time"}, "allowedStatuses": {"type": "array", "items": {"type": "string"}},
        "reachedBy": {"type": "string", "enum": ["widget", "email", "none"], "description": "Agents only: how a public reply reaches the customer now: in the widget (one thread with a conversation whose visitor was seen in the last two minutes), by email (an address and a mail server; for a conversation, once the visitor has not read it in the widget within PARLEY_CHAT_EMAIL_DELAY_SECONDS), or nowhere"},
        "emailConfigured": {"type": "boolean", "description": "Agents only: whether a mail server is configured"},
        "sla": {"type": "object", "description": "Agents only", "properties": {"firstResponseDueAt": {"type": ["string", "null"]}, "resolutionDueAt": {"type": ["string", "null"]},
            "firstResponse": {"type": "string", "enum": ["none", "paused", "ok", "warning", "breached", "met"]}, "resolution": {"type": "string", "enum": ["none", "paused", "ok", "warning", "breached", "met"]}, "paused": {"type": "boolean"}}},
        "messages": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "seq": {"type": "integer"},
            "role": {"type": "string", "enum": ["customer", "agent", "ai", "system"]}, "authorAgentId": {"type": ["string", "null"]}, "body": {"type": "string"},
            "internal": {"type": "boolean"}, "createdAt": {"type": "string", "format": "date-time"},
            "chatSeq": {"type": ["integer", "null"], "description": "Its seq in the ticket's conversation, when the two are one thread"}}}}}},
    "Visitor": {"type": "object", "properties": {"id": uuid, "anonymousId": {"type": "string"}, "externalId": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]}, "traits": {"type": "object"}, "currentPage": {"type": ["string", "null"]}, "firstSeenAt": ts, "lastSeenAt": ts}},
    "ChatSummary": {"type": "object", "properties": {"session": ref("Session"), "visitor": ref("Visitor")}},
    "ChatPage": page("ChatSummary"),
    "ChatDetail": {"type": "object", "properties": {"session": ref("Session"), "visitor": ref("Visitor"), "messages": {"type": "array", "items": ref("Message")},
        "ticketId": {"type": ["string", "null"], "description": "The conversation's ticket (the newest, if it had several)"}}},
    "Reply": {"type": "object", "properties": {"message": ref("Message"), "session": ref("Session")}},
    "Article": {"type": "object", "required": ["id", "title", "body", "tags", "published", "createdAt", "updatedAt"], "properties": {
        "id": uuid, "title": {"type": "string"}, "body": {"type": "string", "description": "Markdown"}, "url": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}}, "published": {"type": "boolean"}, "createdAt": ts, "updatedAt": ts}},
    "ArticlePage": page("Article"),
    "TicketPage": page("Ticket"),
    "TicketDraft": {"type": "object", "properties": {"id": uuid, "ticketId": uuid, "basedOnSeq": {"type": "integer"}, "body": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": ["string", "null"]}}}},
        "confidence": {"type": "number"}, "kind": {"type": "string", "enum": ["answer", "resolve", "article"]}, "provider": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["pending", "accepted", "edited", "dismissed", "superseded", "auto_sent"]}, "sentBody": {"type": ["string", "null"]},
        "decidedBy": {"type": ["string", "null"]}, "createdAt": ts, "decidedAt": nts}},
    "CannedResponseInput": {"type": "object", "required": ["shortcut", "title", "body"], "properties": {"shortcut": {"type": "string", "pattern": "^/?[a-z0-9_-]{1,40}$"}, "title": {"type": "string", "maxLength": 120}, "body": {"type": "string", "maxLength": 10000}}},
    "CannedResponse": {"type": "object", "properties": {"id": {"type": "string"}, "shortcut": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"}, "usageCount": {"type": "integer"},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}}},
    "AuditEntry": {"type": "object", "properties": {"id": {"type": "string"}, "actorAgentId": {"type": ["string", "null"]}, "actorKind": {"type": "string", "enum": ["agent", "api_key", "customer", "assistant", "system"]},
        "action": {"type": "string"}, "entity": {"type": "string"}, "entityId": {"type": "string"}, "details": {"type": ["string", "null"]}, "createdAt": {"type": "string", "format": "date-time"}}},
    "AuditPage": page("AuditEntry"),
    "Notification": {"type": "object", "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["assignment", "customer_reply", "sla_warning", "sla_breach", "handoff"]},
        "title": {"type": "string"}, "ticketId": {"type": ["string", "null"]}, "sessionId": {"type": ["string", "null"]},
        "createdAt": {"type": "string", "format": "date-time"}, "readAt": {"type": ["string", "null"], "format": "date-time"}}},
    "SLAPolicies": {"type": "object", "required": ["policies"], "properties": {"policies": {"type": "array", "items": {"type": "object", "required": ["priority", "firstResponseMinutes", "resolutionMinutes", "businessHoursOnly"], "properties": {
        "priority": {"type": "string", "enum": ["low", "medium", "high", "urgent"]}, "firstResponseMinutes": {"type": "integer", "minimum": 1}, "resolutionMinutes": {"type": "integer", "minimum": 1}, "businessHoursOnly": {"type": "boolean"}}}}}},
    "BusinessHours": {"type": "object", "required": ["timeZone", "weeklyHours", "holidays"], "properties": {"timeZone": {"type": "string"},
        "weeklyHours": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object", "properties": {"start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}, "end": {"type": "string"}}}}},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}}}},
    "ArticleInput": {"type": "object", "required": ["title", "body"], "properties": {
        "title": {"type": "string", "maxLength": 300}, "body": {"type": "string", "maxLength": 100000}, "url": {"type": ["string", "null"]},
        "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 40}}, "published": {"type": "boolean", "default": True}}},
    "SearchHit": {"type": "object", "properties": {"id": uuid, "title": {"type": "string"}, "url": {"type": ["string", "null"]},
        "excerpt": {"type": "string", "description": "about 240 characters of the best passage around the match"},
        "passage": {"type": "string", "description": "the article's best passage, whole (120 to 250 words, along headings)"},
        "passageHeading": {"type": "string", "description": "the article's title, then the passage's section heading"},
        "score": {"type": "number"}, "published": {"type": "boolean"}}},
    "Embeddings": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["openai", "gemini"]}, "baseUrl": {"type": "string"}, "model": {"type": "string"},
        "queryModel": {"type": "string"}, "hasApiKey": {"type": "boolean"}, "derived": {"type": "boolean", "description": "borrowed from the OpenAI chat provider (text-embedding-3-small), not configured"},
        "healthy": {"type": ["boolean", "null"]}, "lastError": {"type": ["string", "null"]}}},
    "Review": {"type": "object", "properties": {"messageId": uuid, "verdict": {"type": ["string", "null"], "enum": ["right", "wrong", None]},
        "reviewedBy": {"type": ["string", "null"]}, "reviewedAt": {"type": ["string", "null"], "format": "date-time"}}},
}
descriptions = {"400": "Malformed JSON", "401": "Not signed in, or the credential is not valid", "403": "The role does not allow this, the CSRF token is missing, or the origin is not allowed",
                "404": "No such thing in your organization", "409": "Conflicts with the current state", "413": "The body is too large", "415": "The body is not application/json",
                "422": "A field is invalid; error.field names it", "429": "Too many requests; see Retry-After"}
document = {
    "openapi": "3.1.0",
    "info": {"title": "Parley API", "version": "0.2.0", "description":
             "Parley's REST API. Agents authenticate with the session cookie (and echo the CSRF token in X-CSRF-Token on unsafe requests) or with an API key as "
             "Authorization: Bearer. Visitors use the token from POST /api/v1/chat/sessions as Authorization: Bearer. Errors are {\"error\":{\"code\",\"message\",\"field\"?}}. "
             "Lists use keyset paging: pass nextCursor back as cursor."},
    "servers": [{"url": "/"}], "paths": paths,
    "components": {"schemas": schemas,
                   "responses": {f"E{c}": {"description": d, "content": {"application/json": {"schema": ref("Error")}}} for c, d in descriptions.items()},
                   "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "parley_session"},
                                       "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key created under /api/v1/admin/api-keys"},
                                       "visitorToken": {"type": "http", "scheme": "bearer", "description": "The token from POST /api/v1/chat/sessions"}}}}
out = os.path.join(os.path.dirname(__file__), "..", "Sources", "ParleyHTTP", "Resources", "openapi.json")
with open(out, "w") as f:
    json.dump(document, f, indent=2)
    f.write("\n")
