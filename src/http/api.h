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
//   POST /api/login        {password}         throttled per IP           open
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
//   GET  /, /setup, /app.js, /style.css                                  open
//
// Loop thread only. Borrows backend and clock, which must outlive it and every
// pending completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/throttle.h"
#include "http/backend.h"
#include "http/diagnostics.h"
#include "http/message.h"
#include "http/sessions.h"
#include "http/traces.h"

namespace postern::http {

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
};

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

 private:
  enum class Access { open, session, session_csrf };
  struct Call {
    const Request& request;
    const RequestContext& context;
    std::optional<SessionInfo> session;
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

  // Answers 429 (with Retry-After) when `peer` must wait; true when refused.
  bool login_throttled(Call& call);
  void login_failed(const std::string& peer);
  Response logged_in(const RequestContext& context);

  Backend& backend_;
  const core::Clock& clock_;
  Diagnostics* diagnostics_;
  ApiOptions options_;
  Sessions sessions_;
  std::optional<std::string> setup_token_;
  bool setup_in_progress_ = false;
  core::Throttle throttle_;
  std::unordered_map<std::string, core::TimePoint> not_before_;  // per IP, after a failure
  std::unordered_set<std::string> checking_;                     // IPs with a check in flight
  TraceBoard traces_;
};

}  // namespace postern::http
