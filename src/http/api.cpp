// Api: routing, the request guards and the session handlers (setup, login, logout).
#include "http/api.h"

#include <algorithm>

#include "core/log.h"
#include "http/api_json.h"
#include "http/assets.h"
#include "http/guard.h"

namespace postern::http {
namespace {

constexpr std::string_view kCookie = "postern_session";

// On every response: the page is never framed, sniffed or leaked through Referer.
void add_security_headers(Response& r) {
  r.set("X-Content-Type-Options", "nosniff");
  r.set("X-Frame-Options", "DENY");
  r.set("Referrer-Policy", "no-referrer");
  r.set("Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  if (r.header("Cache-Control") == nullptr) r.set("Cache-Control", "no-store");
}

bool is_json(const Request& request) {
  const std::string* type = request.header("content-type");
  if (type == nullptr) return false;
  std::string_view t = *type;
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t == "application/json";
}

// "/api/trace/" matches "/api/trace/<id>" (one non-empty segment); others match exactly.
bool path_matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty() || pattern.back() != '/') return pattern == path;
  return path.size() > pattern.size() && path.substr(0, pattern.size()) == pattern &&
         path.find('/', pattern.size()) == std::string_view::npos;
}

}  // namespace

const Api::Route Api::kRoutes[] = {
    {"GET", "/api/session", Access::open, &Api::on_session},
    {"POST", "/api/setup", Access::open, &Api::on_setup},
    {"POST", "/api/login", Access::open, &Api::on_login},
    {"POST", "/api/logout", Access::session_csrf, &Api::on_logout},
    {"GET", "/api/status", Access::session, &Api::on_status},
    {"GET", "/api/mailboxes", Access::session, &Api::on_mailboxes},
    {"GET", "/api/settings", Access::session, &Api::on_settings},
    {"POST", "/api/settings", Access::session_csrf, &Api::on_change_settings},
    {"POST", "/api/domains", Access::session_csrf, &Api::on_domains},
    {"POST", "/api/users", Access::session_csrf, &Api::on_users},
    {"POST", "/api/certificate", Access::session_csrf, &Api::on_certificate},
    {"POST", "/api/trace", Access::session_csrf, &Api::on_start_trace},
    {"GET", "/api/trace/", Access::session, &Api::on_trace},
    {"GET", "/api/links", Access::session, &Api::on_links},
    {"POST", "/api/restart", Access::session_csrf, &Api::on_restart},
    {"GET", "/api/collect", Access::session, &Api::on_collect},
    {"POST", "/api/collect", Access::session_csrf, &Api::on_change_collect},
    {"POST", "/api/mailbox/login", Access::open, &Api::on_mailbox_login},
    {"POST", "/api/mailbox/logout", Access::mailbox, &Api::on_mailbox_logout},
    {"GET", "/api/mailbox/messages", Access::mailbox, &Api::on_mailbox_messages},
    {"POST", "/api/mailbox/delete", Access::mailbox, &Api::on_mailbox_delete},
    {"GET", "/api/mailbox/message", Access::mailbox, &Api::on_mailbox_download},
};

Api::Api(Backend& backend, const core::Clock& clock, ApiOptions options, Diagnostics* diagnostics)
    : backend_(backend),
      clock_(clock),
      diagnostics_(diagnostics),
      options_(options),
      sessions_([&backend] { return backend.random_token(); }, options.session_idle,
                options.max_sessions),
      login_gate_(options.login_throttle),
      traces_(options.traces),
      mailbox_sessions_([&backend] { return backend.random_token(); }, options.session_idle,
                        options.max_mailbox_sessions),
      mailbox_gate_(options.mailbox_throttle) {
  // Kept in memory only: never on disk, and a restart prints a fresh link.
  if (!backend_.admin_password_set()) setup_token_ = backend_.random_token();
}

void Api::handle(const Request& request, const RequestContext& context, Respond respond) {
  Respond guarded = [respond = std::move(respond)](Response r) {
    add_security_headers(r);
    // BREACH: no secret-carrying response is compressed; only serve_asset()
    // compresses, and the assets hold no secret (api_test pins both).
    respond(std::move(r));
  };
  const std::string* host = request.header("host");
  if (host == nullptr || !host_allowed(*host, backend_.hostname(), context.local_port)) {
    // RFC 9110 §15.5.20: 421 for a request not meant for this server (rebinding).
    POSTERN_LOG_WARN("http event=host-refused peer=%s host=%s", context.peer.c_str(),
                     core::printable(host ? *host : std::string()).c_str());
    guarded(json_error(421,
                       "This address is not one of the appliance's names; open it by its "
                       "IP address or configured hostname."));
    return;
  }
  const bool api = request.path.rfind("/api/", 0) == 0;
  const bool head = request.method == "HEAD";
  const Route* route = nullptr;
  bool path_known = false;
  for (const Route& r : kRoutes) {
    if (!path_matches(r.path, request.path)) continue;
    path_known = true;
    if (request.method == r.method || (head && std::string_view(r.method) == "GET")) route = &r;
  }
  if (route == nullptr) {
    if (!api && (request.method == "GET" || head)) {
      if (const Asset* asset = find_asset(request.path)) {
        guarded(serve_asset(*asset, request));
        return;
      }
    }
    if (path_known) {
      guarded(json_error(405, "method not allowed"));
      return;
    }
    guarded(json_error(404, "not found"));
    return;
  }
  if (route->method == std::string_view("POST")) {
    // A cross-site form can send neither this type nor a foreign-free Origin:
    // defence in depth beside SameSite=Strict and the CSRF token.
    if (!is_json(request)) {
      guarded(json_error(415, "send JSON (Content-Type: application/json)"));
      return;
    }
    if (!same_site_request(request.header("sec-fetch-site"), request.header("origin"), *host,
                           context.secure)) {
      POSTERN_LOG_WARN("http event=cross-site-refused peer=%s path=%s", context.peer.c_str(),
                       route->path);
      guarded(json_error(403, "cross-origin request refused"));
      return;
    }
  }
  Call call{request, context, std::nullopt, std::nullopt, std::move(guarded)};
  if (const std::string* cookies = request.header("cookie")) {
    if (auto id = cookie_value(*cookies, kCookie))
      call.session = sessions_.touch(*id, clock_.now());
    if (auto id = cookie_value(*cookies, kMailboxCookie))
      call.mailbox_session = mailbox_sessions_.touch(*id, clock_.now());
  }
  if ((route->access == Access::session || route->access == Access::session_csrf) &&
      !call.session) {
    call.respond(json_error(401, "Please log in (sessions end after 30 minutes idle)."));
    return;
  }
  if (route->access == Access::session_csrf) {
    const std::string* token = request.header("x-csrf-token");
    if (token == nullptr || !equal_constant_time(*token, call.session->csrf)) {
      POSTERN_LOG_WARN("http event=csrf-refused peer=%s path=%s", context.peer.c_str(),
                       route->path);
      call.respond(json_error(403, "The page is out of date; reload it and try again."));
      return;
    }
  }
  (this->*(route->handler))(call);
}

void Api::on_session(Call& call) {
  Json body{{"setup_required", !backend_.admin_password_set()},
            {"logged_in", call.session.has_value()}};
  if (call.session) body["csrf"] = call.session->csrf;
  if (call.mailbox_session) {
    body["mailbox"] = {{"address", call.mailbox_session->subject},
                       {"csrf", call.mailbox_session->csrf}};
  }
  call.respond(json_response(200, body));
}

Response Api::logged_in(const RequestContext& context) {
  SessionInfo session = sessions_.create(clock_.now());
  Response r = json_response(200, Json{{"logged_in", true}, {"csrf", session.csrf}});
  std::string cookie =
      std::string(kCookie) + "=" + session.id + "; Path=/; HttpOnly; SameSite=Strict";
  if (context.secure) cookie += "; Secure";
  r.set("Set-Cookie", cookie);
  return r;
}

void Api::on_setup(Call& call) {
  if (!setup_token_ || setup_in_progress_ || backend_.admin_password_set()) {
    call.respond(json_error(409, "The admin password is already set; log in instead."));
    return;
  }
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto token = string_field(*body, "token");
  auto password = string_field(*body, "password");
  if (!token || !equal_constant_time(*token, *setup_token_)) {
    POSTERN_LOG_WARN("http event=setup-token-refused peer=%s", call.context.peer.c_str());
    return call.respond(json_error(
        403, "This set-up link is not valid. Use the link postern printed when it started."));
  }
  if (!password || password->size() < options_.min_admin_password ||
      password->size() > options_.max_password) {
    return call.respond(json_error(422, "Choose a password of at least " +
                                            std::to_string(options_.min_admin_password) +
                                            " characters."));
  }
  setup_in_progress_ = true;  // a second request cannot race this one
  backend_.set_admin_password(
      std::move(*password),
      [this, context = call.context, respond = call.respond](core::Result<void, Problem> saved) {
        setup_in_progress_ = false;
        if (!saved) {
          respond(json_error(500, "The password could not be saved: " + saved.error()));
          return;
        }
        setup_token_.reset();  // the token dies with its first use
        POSTERN_LOG_INFO("http event=admin-password-set peer=%s", context.peer.c_str());
        respond(logged_in(context));
      });
}

bool Api::login_refused(LoginGate& gate, LoginGate::Keys keys, Call& call) {
  auto wait = gate.wait_for(keys, clock_.now());
  if (!wait) return false;
  call.respond(too_many_attempts(*wait));
  return true;
}

void Api::on_login(Call& call) {
  if (!backend_.admin_password_set()) {
    return call.respond(json_error(409,
                                   "No admin password is set yet; use the set-up link "
                                   "postern printed when it started."));
  }
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto password = string_field(*body, "password");
  if (!password || password->empty() || password->size() > options_.max_password)
    return call.respond(json_error(422, "Enter the admin password."));
  const std::string ip_key = "ip:" + call.context.peer;
  if (login_refused(login_gate_, {ip_key}, call)) return;
  login_gate_.begin({ip_key});
  // PBKDF2 runs on the pool (the backend's executor), never on the loop.
  backend_.verify_admin_password(std::move(*password), [this, ip_key, context = call.context,
                                                        respond = call.respond](bool ok) {
    login_gate_.end({ip_key});
    if (!ok) {
      login_gate_.failed({ip_key}, clock_.now());
      POSTERN_LOG_WARN("http event=login-failed peer=%s", context.peer.c_str());
      respond(json_error(401, "Wrong password."));
      return;
    }
    login_gate_.succeeded(ip_key);
    POSTERN_LOG_INFO("http event=login peer=%s", context.peer.c_str());
    respond(logged_in(context));
  });
}

void Api::on_logout(Call& call) {
  sessions_.remove(call.session->id);
  Response r = json_response(200, Json{{"logged_in", false}});
  r.set("Set-Cookie", std::string(kCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  call.respond(std::move(r));
}

}  // namespace postern::http
