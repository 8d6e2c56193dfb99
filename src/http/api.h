// http::Api: the status page's server side. Routes each request, guards it
// (Host, Origin, session, CSRF), serves the embedded assets and answers the
// JSON API under /api/ over a Backend. Sans-I/O: no socket, timer or store.
//
// Typical call sequence (the server glue, per request):
//   api.handle(request, {peer, secure, local_port}, [](Response r) { send r });
// `respond` is called exactly once: at once for reads and refusals, later (on
// the loop thread) when the backend completes a change or a password check.
// The caller must keep `respond` safe to call after its connection is gone.
//
// Routes (JSON bodies; a change needs the session cookie and X-CSRF-Token):
//   GET  /api/session      {setup_required, logged_in, csrf?}            open
//   POST /api/setup        {token, password}  first start only           open
//   POST /api/login        {password}         throttled per IP (LoginGate) open
//   POST /api/logout                                                     session + CSRF
//   GET  /api/status       overview, health, recent events               session
//   GET  /api/mailboxes    domains and users                             session
//   GET  /api/settings     every setting, editable or not                session
//   POST /api/settings     {changes: {key: value, ...}}                  session + CSRF
//   POST /api/domains      {action: add|remove|dedup, name, dedup_rule?} session + CSRF
//   POST /api/users        {action: add|remove|password, address, password?}
//   POST /api/certificate  {cert, key} (PEM)                             session + CSRF
//   POST /api/trace        {host} -> 202 {id}; 400 bad host, 429 busy    session + CSRF
//   GET  /api/trace/<id>   {id, target, done, hops: [...], outcome, ...} session
//   GET  /api/links?since=<unix s>  monitored targets' RTT/loss series   session
//   POST /api/restart      exit for the supervisor to restart postern    session + CSRF
//   GET/POST /api/collect  collected mailboxes (api_collect.h)           session (+ CSRF)
//   GET  /, /setup, /app.js, /style.css                                  open
// The mailbox view (api_mailbox.cpp): an owner logs in with the mailbox's own
// address and POP3 password (cookie postern_mailbox, a table apart from the
// admin's); the admin opens any mailbox by naming `address`.
//   POST /api/mailbox/login    {address, password}  throttled per IP and user  open
//   POST /api/mailbox/logout                                          owner + CSRF
//   GET  /api/mailbox/messages?[address=]&[before=<uid>]  a page, newest first
//   POST /api/mailbox/delete   {[address], uids: [...]}               owner/admin + CSRF
//   GET  /api/mailbox/message?[address=]&uid=<uid>  the .eml, streamed owner/admin
// Every POST is refused (403) when Sec-Fetch-Site is cross-site or Origin is
// foreign, before any session is looked at. No response carrying a secret
// (session cookie, CSRF token) is ever compressed (BREACH): only the static
// assets are, and they hold none.
//
// Loop thread only. Borrows backend and clock, which must outlive it and every
// pending completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/throttle.h"
#include "http/backend.h"
#include "http/diagnostics.h"
#include "http/login_gate.h"
#include "http/message.h"
#include "http/sessions.h"
#include "http/traces.h"

namespace postern::http {

struct CollectBackend;

struct ApiOptions {
  std::chrono::seconds session_idle{std::chrono::minutes(30)};
  std::size_t max_sessions = 16;  // one owner, a few devices
  std::size_t min_admin_password = 10;
  std::size_t min_user_password = 8;  // as `postern user add`
  std::size_t max_password = 1024;    // PBKDF2 cost does not depend on it, but memory does
  std::size_t recent_events = 50;     // shown on the page
  std::size_t health_events = 2000;   // scanned for the health counters
  core::ThrottlePolicy login_throttle{};
  TraceBoardOptions traces{};
  std::size_t max_host_bytes = 300;    // longer is refused before the backend sees it
  std::size_t link_points = 720;       // per target in GET /api/links (the newest)
  std::size_t link_series = 16;        // targets in GET /api/links
  std::chrono::hours link_window{24};  // the furthest back `since` may reach
  std::size_t mailbox_page = 50;       // messages per GET /api/mailbox/messages (at most)
  std::size_t max_delete = 1000;       // uids per POST /api/mailbox/delete
  std::size_t max_mailbox_sessions = 32;
  core::ThrottlePolicy mailbox_throttle{};  // as pop3::ServerOptions::throttle
};

// The mailbox owner's session cookie (the admin's is "postern_session").
inline constexpr std::string_view kMailboxCookie = "postern_mailbox";

struct RequestContext {
  std::string peer;  // client address, for the login throttle and logs
  bool secure = false;
  std::uint16_t local_port = 0;  // the port the request arrived on (Host check)
};

using Respond = std::function<void(Response)>;

class Api {
 public:
  // Creates the one-time setup token when no admin password is set yet. `diagnostics`
  // may be null: the trace and link routes then answer 503.
  Api(Backend& backend, const core::Clock& clock, ApiOptions options = {},
      Diagnostics* diagnostics = nullptr);

  void handle(const Request& request, const RequestContext& context, Respond respond);

  // The setup token while first-start set-up is open (app prints the link), else nullopt.
  std::optional<std::string> setup_token() const { return setup_token_; }
  std::size_t session_count() const { return sessions_.size(); }
  const TraceBoard& traces() const { return traces_; }
  // The collected mailboxes' backend (outlives the Api); null: GET says unavailable.
  void set_collect(CollectBackend* collect) { collect_ = collect; }

 private:
  // `mailbox`: checked by the handler (mailbox_actor), which knows the address asked for.
  enum class Access { open, session, session_csrf, mailbox };
  struct Call {
    const Request& request;
    const RequestContext& context;
    std::optional<SessionInfo> session;          // the admin's
    std::optional<SessionInfo> mailbox_session;  // a mailbox owner's
    Respond respond;
  };
  using Handler = void (Api::*)(Call& call);
  struct Route {
    const char* method;
    const char* path;  // ending in '/': that prefix and one more segment (an id)
    Access access;
    Handler handler;
  };
  static const Route kRoutes[];

  void on_session(Call& call);
  void on_setup(Call& call);
  void on_login(Call& call);
  void on_logout(Call& call);
  void on_status(Call& call);
  void on_mailboxes(Call& call);
  void on_settings(Call& call);
  void on_change_settings(Call& call);
  void on_domains(Call& call);
  void on_users(Call& call);
  void on_certificate(Call& call);
  void on_start_trace(Call& call);
  void on_trace(Call& call);
  void on_links(Call& call);
  void on_restart(Call& call);
  void on_collect(Call& call);
  void on_change_collect(Call& call);
  void on_mailbox_login(Call& call);
  void on_mailbox_logout(Call& call);
  void on_mailbox_messages(Call& call);
  void on_mailbox_delete(Call& call);
  void on_mailbox_download(Call& call);

  // The mailbox a mailbox route acts on: the owner's own (its session), or the
  // one `address` names for the admin. With `change`, the X-CSRF-Token of that
  // session is required too. Answers 401/403 itself and returns nullopt.
  std::optional<std::string> mailbox_actor(Call& call, const std::optional<std::string>& address,
                                           bool change);

  // Answers 429 (with Retry-After) when an attempt for `keys` must wait; true when refused.
  bool login_refused(LoginGate& gate, LoginGate::Keys keys, Call& call);
  Response logged_in(const RequestContext& context);

  Backend& backend_;
  const core::Clock& clock_;
  Diagnostics* diagnostics_;
  CollectBackend* collect_ = nullptr;
  ApiOptions options_;
  Sessions sessions_;
  std::optional<std::string> setup_token_;
  bool setup_in_progress_ = false;
  LoginGate login_gate_;  // keyed "ip:<peer>"
  TraceBoard traces_;
  // Mailbox owners: their own session table and login gate (POP3's policy and
  // keys, "ip:" and "user:"), so neither crowds out the admin's.
  Sessions mailbox_sessions_;
  LoginGate mailbox_gate_;
};

}  // namespace postern::http
