// Api: the collected mailboxes (issue 19): the accounts with their status in
// words, and add / remove / pin / collect now through the CollectBackend.
#include "http/api_collect.h"

#include "core/log.h"
#include "http/api.h"
#include "http/api_json.h"

namespace postern::http {
namespace {

Json account_json(const CollectAccountView& a) {
  Json j{{"id", a.id},
         {"mailbox", a.mailbox},
         {"host", a.host},
         {"port", a.port},
         {"tls", a.tls},
         {"user", a.user},
         {"interval", a.interval_seconds},
         {"keep", a.keep},
         {"pinned", !a.pin.empty()},
         {"last_run", a.last_run},
         {"last_success", a.last_success},
         {"next_run", a.next_run},
         {"mails", a.mails},
         {"bytes", a.bytes},
         {"error", a.error},
         {"no_uidl", a.no_uidl},
         {"running", a.running}};
  if (!a.fingerprint.empty()) j["fingerprint"] = a.fingerprint;
  if (a.running) {
    j["progress"] = {
        {"fetched", a.run_fetched}, {"to_fetch", a.run_to_fetch}, {"bytes", a.run_bytes}};
  }
  return j;
}

// A string member, or a number written as text (the port and interval fields).
std::string text_field(const Json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
  return "?";  // refused by the form's check with its sentence
}

std::optional<std::uint64_t> id_field(const Json& body) {
  auto it = body.find("id");
  if (it == body.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

}  // namespace

void Api::on_collect(Call& call) {
  if (collect_ == nullptr) return call.respond(json_response(200, Json{{"available", false}}));
  auto accounts = collect_->collect_accounts();
  if (!accounts) return call.respond(json_error(500, accounts.error()));
  Json list = Json::array();
  for (const CollectAccountView& a : *accounts) list.push_back(account_json(a));
  call.respond(json_response(200, Json{{"available", true}, {"accounts", list}}));
}

void Api::on_change_collect(Call& call) {
  if (collect_ == nullptr)
    return call.respond(json_error(503, "Collecting is not running on this appliance."));
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  const std::string action = string_field(*body, "action").value_or("");
  CollectAnswer answer = [respond = call.respond](bool ok, std::string sentence) {
    respond(ok ? json_response(200, Json{{"message", sentence}}) : json_error(422, sentence));
  };
  if (action == "add") {
    CollectAddForm form;
    form.mailbox = text_field(*body, "mailbox");
    form.host = text_field(*body, "host");
    form.port = text_field(*body, "port");
    form.tls = text_field(*body, "tls");
    form.user = text_field(*body, "user");
    form.password = text_field(*body, "password");
    form.interval = text_field(*body, "interval");
    form.keep = text_field(*body, "keep");
    form.pin = text_field(*body, "pin");
    auto plain = body->find("allow_plain");
    form.allow_plain = plain != body->end() && plain->is_boolean() && plain->get<bool>();
    POSTERN_LOG_INFO("http event=collect-add peer=%s host=%s", call.context.peer.c_str(),
                     core::printable(form.host, 80).c_str());
    return collect_->add_collect_account(std::move(form), std::move(answer));
  }
  auto id = id_field(*body);
  if (!id) return call.respond(json_error(400, "Name the account by its id."));
  if (action == "remove") return collect_->remove_collect_account(*id, std::move(answer));
  if (action == "now") return collect_->collect_now(*id, std::move(answer));
  if (action == "pin") {
    return collect_->pin_collect_account(*id, string_field(*body, "fingerprint").value_or(""),
                                         std::move(answer));
  }
  call.respond(json_error(400, "The action is add, remove, now or pin."));
}

}  // namespace postern::http
