// Api: the owner's views (status, mailboxes, settings) and changes (domains,
// users, settings, certificate), each input checked here before the backend sees it.
#include "http/api.h"

#include "core/log.h"
#include "http/api_json.h"
#include "http/health.h"

namespace postern::http {
namespace {

// The backend's answer to a change: 200 {"ok":true}, or 422 with its sentence.
Done answer(Respond respond, std::string what) {
  return [respond = std::move(respond), what = std::move(what)](core::Result<void, Problem> r) {
    if (!r) {
      respond(json_error(422, r.error()));
      return;
    }
    POSTERN_LOG_INFO("http event=changed what=%s", core::printable(what).c_str());
    respond(json_response(200, Json{{"ok", true}}));
  };
}

// Bounded text: a name or address with no control characters.
std::optional<std::string> text_field(const Json& body, const char* key, std::size_t max) {
  auto value = string_field(body, key);
  if (!value || value->empty() || value->size() > max) return std::nullopt;
  for (unsigned char c : *value) {
    if (c < 0x21 || c == 0x7f) return std::nullopt;
  }
  return value;
}

}  // namespace

void Api::on_status(Call& call) {
  Overview o = backend_.overview();
  Json connections = Json::object();
  for (const auto& [name, count] : o.connections) connections[name] = count;
  Json ports = Json::object();
  for (const auto& [name, port] : o.ports) ports[name] = port;
  Json overview{{"version", o.version},
                {"board", o.board},
                {"hostname", o.hostname},
                {"uptime_s", o.now - o.started_at},
                {"now", o.now},
                {"memory_rss_bytes", o.memory_rss_bytes},
                {"map_used_bytes", o.map_used_bytes},
                {"map_bytes", o.map_bytes},
                {"disk_free_bytes", o.disk_free_bytes},
                {"disk_total_bytes", o.disk_total_bytes},
                {"storage_problem", o.storage_problem.empty() ? Json() : Json(o.storage_problem)},
                {"messages", o.messages},
                {"users", o.users},
                {"domains", o.domains},
                {"connections", connections},
                {"ports", ports},
                {"received_today", o.received_today ? Json(*o.received_today) : Json()},
                {"retrieved_today", o.retrieved_today ? Json(*o.retrieved_today) : Json()}};
  if (o.loop_load) {
    overview["loop_lag_max_ms"] = o.loop_load->lag_max_ms;
    overview["loop_lag_max_total_ms"] = o.loop_load->lag_max_total_ms;
    overview["loop_iteration_max_ms"] = o.loop_load->busy_max_ms;
    overview["loop_iteration_max_total_ms"] = o.loop_load->busy_max_total_ms;
    overview["loop_iteration_cpu_max_ms"] = o.loop_load->cpu_max_ms;
    overview["loop_iteration_cpu_max_total_ms"] = o.loop_load->cpu_max_total_ms;
  }

  auto events = backend_.events(options_.health_events);
  if (!events) return call.respond(json_error(500, events.error()));
  Health h = summarize(*events);
  if (o.ledger) {
    h.duplicates_suppressed = o.ledger->duplicates_suppressed;
    h.partials_discarded = o.ledger->partials_discarded;
    h.partials_kept = o.ledger->partials_kept;
    h.partials_superseded = o.ledger->partials_superseded;
  }
  auto trace_json = [](const AutoTraceView& t) {
    return Json{{"time", t.time}, {"peer", t.peer},     {"hops", t.hops}, {"reached", t.reached},
                {"loss", t.loss}, {"rtt_ms", t.rtt_ms}, {"path", t.path}};
  };
  Json abnormal = Json::array();
  for (const AbnormalEnds& a : h.abnormal_ends) {
    abnormal.push_back({{"user", a.user},
                        {"client", a.client},
                        {"count", a.count},
                        {"last_time", a.last_time},
                        {"last_reason", a.last_reason},
                        {"retrieved_not_removed", a.retrieved_not_removed},
                        {"explanation", a.explanation},
                        {"trace", a.trace ? trace_json(*a.trace) : Json()}});
  }
  Json auto_traces = Json::array();
  for (const AutoTraceView& t : h.auto_traces) auto_traces.push_back(trace_json(t));
  Json health{{"duplicates_suppressed", h.duplicates_suppressed},
              {"partials_discarded", h.partials_discarded},
              {"partials_kept", h.partials_kept},
              {"partials_superseded", h.partials_superseded},
              {"abnormal_ends", abnormal},
              {"auto_traces", auto_traces},
              {"events_scanned", events->size()}};
  Json recent = Json::array();
  for (std::size_t i = 0; i < events->size() && i < options_.recent_events; ++i) {
    const EventView& e = (*events)[i];
    recent.push_back({{"time", e.time},
                      {"kind", e.kind},
                      {"text", e.text},
                      {"sentence", backend_.event_sentence(e)}});
  }
  Json pending = Json::array();
  for (const PendingRestart& p : backend_.pending_restart())
    pending.push_back({{"key", p.key}, {"running", p.running}, {"saved", p.saved}});
  call.respond(json_response(
      200, Json{{"overview", overview},
                {"restart", {{"pending", pending}}},
                {"health", health},
                {"events", recent},
                {"diagnostics",
                 {{"available", diagnostics_ != nullptr},
                  {"note", diagnostics_ != nullptr
                               ? "Trace the path to a host, and watch the links the appliance "
                                 "probes: the default gateway, the DNS server and peers whose "
                                 "sessions broke off."
                               : "Link diagnostics are not running on this appliance."}}}}));
}

void Api::on_mailboxes(Call& call) {
  auto domains = backend_.domains();
  if (!domains) return call.respond(json_error(500, domains.error()));
  auto users = backend_.users();
  if (!users) return call.respond(json_error(500, users.error()));
  Json d = Json::array();
  for (const DomainView& v : *domains)
    d.push_back({{"name", v.name}, {"dedup_rule", v.dedup_rule}});
  Json u = Json::array();
  for (const UserView& v : *users) {
    u.push_back({{"address", v.address},
                 {"messages", v.messages},
                 {"bytes", v.bytes},
                 {"quota_bytes", v.quota_bytes}});
  }
  call.respond(json_response(200, Json{{"domains", d}, {"users", u}}));
}

void Api::on_settings(Call& call) {
  Json list = Json::array();
  for (const SettingView& s : backend_.settings()) {
    list.push_back({{"key", s.key},
                    {"value", s.value},
                    {"editable", s.editable},
                    {"needs_restart", s.needs_restart}});
  }
  call.respond(json_response(200, Json{{"settings", list}}));
}

void Api::on_change_settings(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto it = body->find("changes");
  if (it == body->end() || !it->is_object() || it->empty())
    return call.respond(json_error(422, "Nothing to change."));
  std::vector<std::pair<std::string, std::string>> changes;
  std::string what = "settings";
  for (auto& [key, value] : it->items()) {
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? "yes" : "no";
    } else if (value.is_number_unsigned()) {
      text = std::to_string(value.get<std::uint64_t>());
    } else {
      return call.respond(json_error(422, key + ": give a text, number or yes/no value."));
    }
    if (key.size() > 64 || text.size() > 1024)
      return call.respond(json_error(422, key + ": the value is too long."));
    what += " " + key;
    changes.emplace_back(key, std::move(text));
  }
  // The backend validates each with app::apply(), the one place values are checked.
  backend_.change_settings(std::move(changes), answer(call.respond, what));
}

void Api::on_domains(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto action = string_field(*body, "action").value_or("");
  auto name = text_field(*body, "name", 255);
  if (!name) return call.respond(json_error(422, "Enter a domain name, e.g. example.org."));
  // The backend (app's admin layer) checks the rule; none given: the dedup_rule setting.
  auto rule = string_field(*body, "dedup_rule").value_or("");
  if (action == "add" || action == "dedup") {
    if (action == "add")
      return backend_.add_domain(*name, rule, answer(call.respond, "domain-add"));
    return backend_.set_domain_dedup(*name, rule, answer(call.respond, "domain-dedup"));
  }
  if (action == "remove") return backend_.remove_domain(*name, answer(call.respond, "domain-del"));
  call.respond(json_error(422, "Unknown action; use add, remove or dedup."));
}

void Api::on_users(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto action = string_field(*body, "action").value_or("");
  auto address = text_field(*body, "address", 320);
  if (!address || address->find('@') == std::string::npos)
    return call.respond(json_error(422, "Enter an address like bob@example.org."));
  if (action == "remove") return backend_.remove_user(*address, answer(call.respond, "user-del"));
  if (action != "add" && action != "password")
    return call.respond(json_error(422, "Unknown action; use add, remove or password."));
  auto password = string_field(*body, "password").value_or("");
  if (password.size() < options_.min_user_password || password.size() > options_.max_password) {
    return call.respond(json_error(422, "The password must have at least " +
                                            std::to_string(options_.min_user_password) +
                                            " characters."));
  }
  if (action == "add")
    return backend_.add_user(*address, std::move(password), answer(call.respond, "user-add"));
  backend_.set_user_password(*address, std::move(password), answer(call.respond, "user-passwd"));
}

void Api::on_certificate(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto cert = string_field(*body, "cert").value_or("");
  auto key = string_field(*body, "key").value_or("");
  if (cert.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return call.respond(json_error(422, "Paste the certificate in PEM form (BEGIN CERTIFICATE)."));
  if (key.find("PRIVATE KEY-----") == std::string::npos)
    return call.respond(json_error(422, "Paste the private key in PEM form (BEGIN PRIVATE KEY)."));
  backend_.install_certificate(std::move(cert), std::move(key),
                               answer(call.respond, "certificate"));
}

}  // namespace postern::http
