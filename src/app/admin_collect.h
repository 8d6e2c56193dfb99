// The collect verbs (issue 19), written once for `postern collect add|del` and
// the status page, like app/admin.h: each checks its input, changes the store
// in ONE write transaction that also records an "admin" event naming the
// front-end, and answers with one sentence.
//
// Typical sequence (the page's backend):
//   CollectAdmin admin(env, runner, Actor::page);
//   admin.add_account(form, [](Answer a, std::uint64_t id) { show a.sentence; });
// The password is sealed with collect.key (store/sealed.h) before the write;
// it is never part of an answer or an event.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "app/admin.h"
#include "store/collect_accounts.h"
#include "store/env.h"

namespace postern::app {

// An account as the owner typed it (flags on the command line, fields on the page).
struct CollectForm {
  std::string mailbox;        // the local address mail is delivered to
  std::string host;           // a name or an IP literal
  std::string port;           // empty: 995 for pop3s, 110 otherwise
  std::string tls = "pop3s";  // pop3s | stls | plain
  bool allow_plain = false;   // plain text needs this too: the password crosses in clear
  std::string user;
  std::string password;        // never echoed back
  std::string interval;        // seconds, 60..604800; empty: 900
  std::string keep = "leave";  // leave | delete (once collected) | Nd (delete after N days)
  std::string pin;             // SHA-256 of the server certificate (hex, ':' allowed); optional
};

// The form checked and turned into an account (password not sealed yet), or
// the sentence saying what is wrong.
core::Result<store::CollectAccount, std::string> parse_collect_form(const CollectForm& form);

class CollectAdmin {
 public:
  using AddedFn = std::function<void(Answer, std::uint64_t id)>;
  // Borrows env and runner; they outlive the CollectAdmin and every pending answer.
  CollectAdmin(store::Env& env, AdminRunner& runner, Actor actor)
      : env_(env), runner_(runner), actor_(actor) {}

  void add_account(const CollectForm& form, AddedFn done);
  void del_account(std::uint64_t id, AnswerFn done);
  // Trusts the certificate with this SHA-256 (the one a failed run reported).
  void pin_account(std::uint64_t id, std::string_view fingerprint, AnswerFn done);

 private:
  void write(std::string action, std::uint64_t id, AdminRunner::Job job, std::string sentence,
             AnswerFn done);

  store::Env& env_;
  AdminRunner& runner_;
  Actor actor_;
};

}  // namespace postern::app
