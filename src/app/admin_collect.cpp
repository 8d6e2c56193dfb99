// The collect verbs: the form's checks, the sealed password, one transaction
// with its admin event, one sentence per outcome.
#include "app/admin_collect.h"

#include <memory>

#include "address/address.h"
#include "app/config.h"
#include "app/event_text.h"
#include "core/log.h"
#include "store/events.h"
#include "store/sealed.h"
#include "tls/peer_verifier.h"

namespace postern::app {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  out = std::stoull(std::string(s));
  return true;
}

// A host as typed: a DNS name or an IP literal, printable, no spaces.
bool host_ok(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '@') return false;
  }
  return true;
}

const char* tls_name(store::CollectTls t) {
  return t == store::CollectTls::pop3s ? "pop3s" : t == store::CollectTls::stls ? "stls" : "plain";
}

std::string collect_problem(std::uint64_t id, const core::Error& e) {
  if (e.code == core::Errc::not_found && std::string_view(e.where) == "collect-account")
    return "there is no collect account " + std::to_string(id) + " (see `postern collect list`)";
  return explain(e);
}

}  // namespace

core::Result<store::CollectAccount, std::string> parse_collect_form(const CollectForm& form) {
  store::CollectAccount a;
  auto mailbox = address::parse_mailbox(form.mailbox);
  if (!mailbox) return "the local mailbox: " + address::explain(mailbox.error());
  a.mailbox = mailbox->key();
  if (!host_ok(form.host)) return std::string("give the POP3 server's host name or IP address");
  a.host = form.host;
  if (form.user.empty() || form.user.size() > 255) return std::string("give the user name");
  if (form.user.find_first_of("\r\n") != std::string::npos)
    return std::string("the user name cannot hold a line break");
  a.user = form.user;
  if (form.password.empty()) return std::string("give the password of the external account");
  if (form.password.size() > 1024 || form.password.find_first_of("\r\n") != std::string::npos)
    return std::string("the password must be one line of at most 1024 characters");
  if (form.tls == "pop3s") {
    a.tls = store::CollectTls::pop3s;
  } else if (form.tls == "stls") {
    a.tls = store::CollectTls::stls;
  } else if (form.tls == "plain") {
    if (!form.allow_plain)
      return std::string(
          "plain POP3 sends the password in clear text: allow it explicitly for this account");
    a.tls = store::CollectTls::plain;
  } else {
    return std::string("the TLS mode is pop3s, stls or plain");
  }
  std::uint64_t n = a.tls == store::CollectTls::pop3s ? 995 : 110;
  if (!form.port.empty() && (!parse_u64(form.port, n) || n == 0 || n > 65535))
    return std::string("the port is a number from 1 to 65535");
  a.port = static_cast<std::uint16_t>(n);
  n = 900;
  if (!form.interval.empty() && (!parse_u64(form.interval, n) || n < 60 || n > 7 * 86400))
    return std::string("the interval is 60 to 604800 seconds");
  a.interval_seconds = static_cast<std::uint32_t>(n);
  const std::string& keep = form.keep;
  if (keep.empty() || keep == "leave") {
    a.keep = store::CollectKeep::keep;
  } else if (keep == "delete") {
    a.keep = store::CollectKeep::delete_once_collected;
  } else if (keep.size() > 1 && keep.back() == 'd' &&
             parse_u64(std::string_view(keep).substr(0, keep.size() - 1), n) && n >= 1 &&
             n <= 3650) {
    a.keep = store::CollectKeep::delete_after_days;
    a.delete_after_days = static_cast<std::uint32_t>(n);
  } else {
    return std::string(
        "keep is leave, delete (once collected) or Nd (delete after N days, 1 to 3650)");
  }
  if (!form.pin.empty()) {
    a.pin = tls::PeerVerifier::normalize_pin(form.pin);
    if (a.pin.empty())
      return std::string("the pin is the 64 hex digits of the certificate's SHA-256");
  }
  return a;
}

void CollectAdmin::write(std::string action, std::uint64_t id, AdminRunner::Job job,
                         std::string sentence, AnswerFn done) {
  const std::int64_t now = runner_.now();
  std::string fields = event_field("by", to_string(actor_)) + " " + event_field("action", action);
  if (id != 0) fields += " " + event_field("account", std::to_string(id));
  runner_.write(
      [fields = std::move(fields), job = std::move(job), now](store::WriteTxn& txn) {
        if (auto r = job(txn); !r) return r;
        return store::append_event(txn, "admin", fields, now);
      },
      [sentence = std::move(sentence), id, done = std::move(done)](core::Result<void> r) {
        if (r) return done({true, sentence});
        done({false, collect_problem(id, r.error())});
      });
}

void CollectAdmin::add_account(const CollectForm& form, AddedFn done) {
  auto parsed = parse_collect_form(form);
  if (!parsed) return done({false, parsed.error()}, 0);
  store::CollectAccount a = std::move(*parsed);
  auto key = store::load_or_create_seal_key(env_.options().data_dir);
  if (!key) return done({false, "cannot use the key file collect.key: " + explain(key.error())}, 0);
  auto sealed = store::seal(*key, form.password);
  if (!sealed) return done({false, "cannot encrypt the password: " + explain(sealed.error())}, 0);
  a.sealed_password = std::move(*sealed);
  auto id = std::make_shared<std::uint64_t>(0);
  const std::string what = a.user + "@" + a.host + ":" + std::to_string(a.port) + " (" +
                           tls_name(a.tls) + ") into " + address::display_address(a.mailbox);
  const std::string mailbox = a.mailbox;
  const std::int64_t now = runner_.now();
  std::string fields = event_field("by", to_string(actor_)) + " " +
                       event_field("action", "collect-add") + " " +
                       event_field("address", a.mailbox) + " " + event_field("host", a.host);
  runner_.write(
      [a = std::move(a), id, fields = std::move(fields), now](store::WriteTxn& txn) {
        auto added = store::add_collect_account(txn, a);
        if (!added) return core::Result<void>(added.error());
        *id = *added;
        return store::append_event(
            txn, "admin", fields + " " + event_field("account", std::to_string(*added)), now);
      },
      [id, what, mailbox, done = std::move(done)](core::Result<void> r) {
        if (r)
          return done({true, "added collect account " + std::to_string(*id) + ": " + what}, *id);
        if (r.error().code == core::Errc::not_found)
          return done({false, "there is no local mailbox " + address::display_address(mailbox) +
                                  ": add the user first"},
                      0);
        done({false, explain(r.error())}, 0);
      });
}

void CollectAdmin::del_account(std::uint64_t id, AnswerFn done) {
  write(
      "collect-del", id,
      [id](store::WriteTxn& txn) { return store::drop_collect_account(txn, id); },
      "removed collect account " + std::to_string(id) +
          " (the mail it collected stays; the server's mail is not touched)",
      std::move(done));
}

void CollectAdmin::pin_account(std::uint64_t id, std::string_view fingerprint, AnswerFn done) {
  const std::string pin = tls::PeerVerifier::normalize_pin(std::string(fingerprint));
  if (pin.empty())
    return done({false, "the pin is the 64 hex digits of the certificate's SHA-256"});
  write(
      "collect-pin", id,
      [id, pin](store::WriteTxn& txn) -> core::Result<void> {
        auto a = store::find_collect_account(txn, id);
        if (!a) return a.error();
        a->pin = pin;
        return store::update_collect_account(txn, *a);
      },
      "collect account " + std::to_string(id) + " now trusts the certificate " + pin,
      std::move(done));
}

}  // namespace postern::app
