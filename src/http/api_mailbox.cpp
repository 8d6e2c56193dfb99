// Api: the mailbox view (an owner's login, pages of messages, delete, download)
// and the restart button.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/log.h"
#include "http/api.h"
#include "http/api_json.h"
#include "http/guard.h"

namespace postern::http {
namespace {

// The value of `key` in an application/x-www-form-urlencoded query, decoded
// (RFC 3986 §2.1 percent-encoding, '+' as space); nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.size() <= key.size() || pair.substr(0, key.size()) != key || pair[key.size()] != '=')
      continue;
    std::string_view raw = pair.substr(key.size() + 1);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out += ' ';
      } else if (raw[i] == '%') {
        unsigned value = 0;
        if (i + 2 >= raw.size()) return std::nullopt;
        auto [end, ec] = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, value, 16);
        if (ec != std::errc() || end != raw.data() + i + 3) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
      } else {
        out += raw[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> parse_uid(std::string_view text) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0)
    return std::nullopt;
  return value;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An address as typed: no controls or spaces, one '@', bounded (the backend normalises).
bool plausible_address(const std::string& a) {
  if (a.empty() || a.size() > 320 || std::count(a.begin(), a.end(), '@') != 1) return false;
  return std::none_of(a.begin(), a.end(), [](unsigned char c) { return c < 0x21 || c == 0x7f; });
}

Json message_json(const MessageView& m) {
  Json j{{"uid", m.uid},
         {"uidl", m.uidl},
         {"size", m.size},
         {"received_at", m.received_at},
         {"date", m.summary.date},
         {"from", m.summary.from},
         {"subject", m.summary.subject},
         {"preview", m.summary.preview},
         {"partial", m.partial},
         {"retrieved", m.retrieved},
         {"suppressed_copies", m.suppressed_copies}};
  if (!m.retrieved_by.empty()) {
    j["retrieved_by"] = m.retrieved_by;
    j["retrieved_at"] = m.retrieved_at;
  }
  if (m.duplicate_of) j["duplicate_of"] = *m.duplicate_of;
  if (m.suppressed_copies > 0) j["last_suppressed_at"] = m.last_suppressed_at;
  return j;
}

}  // namespace

std::optional<std::string> Api::mailbox_actor(Call& call, const std::optional<std::string>& address,
                                              bool change) {
  const std::string* token = call.request.header("x-csrf-token");
  auto csrf_ok = [&](const SessionInfo& s) {
    return !change || (token != nullptr && equal_constant_time(*token, s.csrf));
  };
  if (address && call.session) {
    // The admin opens any mailbox by naming it.
    if (!csrf_ok(*call.session)) {
      call.respond(json_error(403, "The page is out of date; reload it and try again."));
      return std::nullopt;
    }
    return *address;
  }
  if (call.mailbox_session) {
    const std::string& own = call.mailbox_session->subject;
    if (address && lower(*address) != own) {
      call.respond(json_error(403, "You can open only your own mailbox."));
      return std::nullopt;
    }
    if (!csrf_ok(*call.mailbox_session)) {
      call.respond(json_error(403, "The page is out of date; reload it and try again."));
      return std::nullopt;
    }
    return own;
  }
  call.respond(json_error(401, "Please log in (sessions end after 30 minutes idle)."));
  return std::nullopt;
}

void Api::on_mailbox_login(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto address = string_field(*body, "address");
  auto password = string_field(*body, "password");
  if (!address || !plausible_address(*address))
    return call.respond(json_error(422, "Enter your mailbox address, e.g. bob@example.org."));
  if (!password || password->empty() || password->size() > options_.max_password)
    return call.respond(
        json_error(422, "Enter the mailbox password (the one your mail app uses)."));
  const std::string ip_key = "ip:" + call.context.peer;
  const std::string user_key = "user:" + lower(*address);
  if (login_refused(mailbox_gate_, {ip_key, user_key}, call)) return;
  mailbox_gate_.begin({ip_key, user_key});
  // PBKDF2 on the pool (the backend's executor), as POP3's PASS.
  backend_.verify_mailbox_password(
      *address, std::move(*password),
      [this, ip_key, user_key, context = call.context,
       respond = call.respond](std::optional<std::string> normalized) {
        mailbox_gate_.end({ip_key, user_key});
        const auto now = clock_.now();
        if (!normalized) {
          mailbox_gate_.failed({ip_key, user_key}, now);
          POSTERN_LOG_WARN("http event=mailbox-login-failed peer=%s user=%s", context.peer.c_str(),
                           core::printable(user_key.substr(5)).c_str());
          respond(json_error(401, "Wrong address or password."));
          return;
        }
        mailbox_gate_.succeeded(user_key);  // the IP keeps its record (throttle.h)
        SessionInfo session = mailbox_sessions_.create(now, *normalized);
        POSTERN_LOG_INFO("http event=mailbox-login peer=%s user=%s", context.peer.c_str(),
                         core::printable(*normalized).c_str());
        Response r = json_response(
            200, Json{{"mailbox", {{"address", *normalized}, {"csrf", session.csrf}}}});
        std::string cookie =
            std::string(kMailboxCookie) + "=" + session.id + "; Path=/; HttpOnly; SameSite=Strict";
        if (context.secure) cookie += "; Secure";
        r.set("Set-Cookie", cookie);
        respond(std::move(r));
      });
}

void Api::on_mailbox_logout(Call& call) {
  if (!call.mailbox_session) return call.respond(json_error(401, "Not logged in to a mailbox."));
  if (!mailbox_actor(call, std::nullopt, /*change=*/true)) return;
  mailbox_sessions_.remove(call.mailbox_session->id);
  Response r = json_response(200, Json{{"logged_in", false}});
  r.set("Set-Cookie",
        std::string(kMailboxCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  call.respond(std::move(r));
}

void Api::on_mailbox_messages(Call& call) {
  auto mailbox = mailbox_actor(call, query_param(call.request.query, "address"), false);
  if (!mailbox) return;
  std::optional<std::uint32_t> before;
  if (auto text = query_param(call.request.query, "before")) {
    before = parse_uid(*text);
    if (!before) return call.respond(json_error(400, "before: give a message number."));
  }
  std::size_t limit = options_.mailbox_page;
  if (auto text = query_param(call.request.query, "limit")) {
    auto n = parse_uid(*text);
    if (!n) return call.respond(json_error(400, "limit: give a number of messages."));
    limit = std::min<std::size_t>(*n, options_.mailbox_page);
  }
  auto page = backend_.mailbox_page(*mailbox, before, limit);
  if (!page) return call.respond(json_error(404, page.error()));
  Json list = Json::array();
  for (const MessageView& m : page->messages) list.push_back(message_json(m));
  call.respond(json_response(
      200, Json{{"address", page->address},
                {"total", page->total},
                {"bytes", page->bytes},
                {"messages", list},
                {"next_before", page->next_before ? Json(*page->next_before) : Json()},
                {"note",
                 "Deleting here is final. A mail program connected over POP3 at this moment "
                 "keeps the list it got when it logged in (RFC 1939) and sees the change at "
                 "its next login; the numbers (UIDLs) of the other messages never change."}}));
}

void Api::on_mailbox_delete(Call& call) {
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto mailbox = mailbox_actor(call, string_field(*body, "address"), /*change=*/true);
  if (!mailbox) return;
  auto it = body->find("uids");
  if (it == body->end() || !it->is_array() || it->empty())
    return call.respond(json_error(422, "Choose the messages to delete."));
  if (it->size() > options_.max_delete)
    return call.respond(
        json_error(422, "At most " + std::to_string(options_.max_delete) + " messages at a time."));
  std::vector<std::uint32_t> uids;
  for (const Json& v : *it) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 ||
        v.get<std::uint64_t>() > UINT32_MAX)
      return call.respond(json_error(422, "uids: give message numbers."));
    uids.push_back(static_cast<std::uint32_t>(v.get<std::uint64_t>()));
  }
  const std::size_t asked = uids.size();
  backend_.delete_messages(
      *mailbox, std::move(uids),
      [respond = call.respond, who = *mailbox, peer = call.context.peer,
       asked](core::Result<std::uint32_t, Problem> r) {
        if (!r) return respond(json_error(422, r.error()));
        POSTERN_LOG_INFO("http event=messages-deleted mailbox=%s count=%u asked=%zu peer=%s",
                         core::printable(who).c_str(), *r, asked, peer.c_str());
        respond(json_response(200, Json{{"deleted", *r}, {"asked", asked}}));
      });
}

void Api::on_mailbox_download(Call& call) {
  auto mailbox = mailbox_actor(call, query_param(call.request.query, "address"), false);
  if (!mailbox) return;
  auto uid_text = query_param(call.request.query, "uid");
  auto uid = uid_text ? parse_uid(*uid_text) : std::nullopt;
  if (!uid) return call.respond(json_error(400, "uid: give a message number."));
  auto message = backend_.open_message(*mailbox, *uid);
  if (!message) return call.respond(json_error(404, message.error()));
  Response r;
  // RFC 5322 message: the bytes as stored, CRLF line ends; a download, never shown inline.
  r.set("Content-Type", "message/rfc822");
  r.set("Content-Disposition", "attachment; filename=\"" + message->uidl + ".eml\"");
  r.stream = std::make_shared<BodyStream>(BodyStream{message->size, std::move(message->piece)});
  call.respond(std::move(r));
}

void Api::on_restart(Call& call) {
  POSTERN_LOG_WARN("http event=restart-requested peer=%s", call.context.peer.c_str());
  call.respond(json_response(
      202, Json{{"restarting", true},
                {"note", "postern is restarting; the page reconnects when it is back."}}));
  backend_.restart();  // after the answer is queued; the connection flushes it first
}

}  // namespace postern::http
