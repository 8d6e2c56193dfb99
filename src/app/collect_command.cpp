// The collect verbs. `now` runs the collection in this process (own loop and
// Writer), under the same per-account lock as the server, with a progress line.
#include "app/collect_command.h"

#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "app/admin_collect.h"
#include "app/collect_service.h"
#include "app/config.h"
#include "collect/clock_override.h"
#include "collect/collector.h"
#include "net/uv_executor.h"
#include "store/collect_accounts.h"
#include "store/sealed.h"

namespace postern::app {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "postern: %s\n", message.c_str());
  return 1;
}
int usage(const std::string& message) {
  std::fprintf(stderr,
               "postern: %s\nusage: postern collect add MAILBOX --host HOST --user USER "
               "[--tls pop3s|stls|plain --allow-plain] [--port N] [--interval SECONDS] "
               "[--keep leave|delete|Nd] [--pin SHA256] (password on stdin)\n"
               "       postern collect del ID | list | now [ID] | pin ID SHA256\n",
               message.c_str());
  return 2;
}

std::string option(const CommandLine& cl, const char* name, std::string fallback = {}) {
  auto it = cl.options.find(name);
  return it == cl.options.end() ? fallback : it->second;
}

bool parse_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(s);
  return true;
}

std::string read_secret() {
  return read_hidden_line("Password of the external account: ");
}

const char* tls_name(store::CollectTls t) {
  return t == store::CollectTls::pop3s ? "pop3s" : t == store::CollectTls::stls ? "stls" : "plain";
}

std::string when(std::int64_t t) {
  if (t == 0) return "never";
  std::time_t tt = static_cast<std::time_t>(t);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::gmtime(&tt));
  return text;
}

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

int add(store::Env& env, const CommandLine& cl) {
  if (cl.positional.size() != 2) return usage("collect add needs the local MAILBOX");
  CollectForm form;
  form.mailbox = cl.positional[1];
  form.host = option(cl, "host");
  form.user = option(cl, "user");
  if (form.host.empty() || form.user.empty()) return usage("collect add needs --host and --user");
  form.tls = option(cl, "tls", "pop3s");
  form.allow_plain = cl.options.count("allow-plain") != 0;
  form.port = option(cl, "port");
  form.interval = option(cl, "interval");
  form.keep = option(cl, "keep", "leave");
  form.pin = option(cl, "pin");
  CollectForm probe = form;
  probe.password = "-";  // the form checked before the password is asked for
  if (auto checked = parse_collect_form(probe); !checked) return usage(checked.error());
  form.password = read_secret();
  if (form.password.empty()) return fail("no password given (on stdin)");
  InPlaceRunner runner(env);
  CollectAdmin admin(env, runner, Actor::cli);
  Answer answer;
  admin.add_account(form, [&](Answer a, std::uint64_t) { answer = std::move(a); });
  if (!answer.ok) return fail(answer.sentence);
  std::printf("%s\n", answer.sentence.c_str());
  return 0;
}

int del(store::Env& env, const CommandLine& cl) {
  std::uint64_t id = 0;
  if (cl.positional.size() != 2 || !parse_u64(cl.positional[1], id))
    return usage("collect del needs the account ID (see `postern collect list`)");
  InPlaceRunner runner(env);
  CollectAdmin admin(env, runner, Actor::cli);
  Answer answer;
  admin.del_account(id, [&](Answer a) { answer = std::move(a); });
  if (!answer.ok) return fail(answer.sentence);
  std::printf("%s\n", answer.sentence.c_str());
  return 0;
}

int pin(store::Env& env, const CommandLine& cl) {
  std::uint64_t id = 0;
  if (cl.positional.size() != 3 || !parse_u64(cl.positional[1], id))
    return usage("collect pin needs the account ID and the certificate's SHA-256");
  InPlaceRunner runner(env);
  CollectAdmin admin(env, runner, Actor::cli);
  Answer answer;
  admin.pin_account(id, cl.positional[2], [&](Answer a) { answer = std::move(a); });
  if (!answer.ok) return fail(answer.sentence);
  std::printf("%s\n", answer.sentence.c_str());
  return 0;
}

int list(store::Env& env) {
  auto txn = env.begin_read();
  if (!txn) return fail(explain(txn.error()));
  auto accounts = store::list_collect_accounts(*txn);
  if (!accounts) return fail(explain(accounts.error()));
  for (const auto& a : *accounts) {
    auto s = store::collect_status(*txn, a.id).value_or(store::CollectStatus{});
    const std::string keep = a.keep == store::CollectKeep::keep ? "leave"
                             : a.keep == store::CollectKeep::delete_once_collected
                                 ? "delete"
                                 : std::to_string(a.delete_after_days) + "d";
    const std::int64_t next = s.last_run == 0 ? 0 : s.last_run + collect::next_delay_seconds(a, s);
    std::printf("%" PRIu64 " %s <- %s@%s:%u tls=%s keep=%s interval=%us%s\n", a.id,
                a.mailbox.c_str(), a.user.c_str(), a.host.c_str(), a.port, tls_name(a.tls),
                keep.c_str(), a.interval_seconds, a.pin.empty() ? "" : " pinned");
    std::printf("    last run %s, %" PRIu64 " mails, %" PRIu64 " bytes, next %s%s\n",
                when(s.last_run).c_str(), s.mails, s.bytes, next == 0 ? "soon" : when(next).c_str(),
                s.uid_from_headers ? ", no UIDL (header digests)" : "");
    if (!s.error.empty()) std::printf("    last error: %s\n", s.error.c_str());
  }
  if (accounts->empty()) std::printf("no collect accounts\n");
  return 0;
}

int now(store::Env& env, const Settings& settings, const CommandLine& cl) {
  std::uint64_t only = 0;
  if (cl.positional.size() > 2 || (cl.positional.size() == 2 && !parse_u64(cl.positional[1], only)))
    return usage("collect now takes an optional account ID");
  std::vector<store::CollectAccount> accounts;
  {
    auto txn = env.begin_read();
    if (!txn) return fail(explain(txn.error()));
    auto all = store::list_collect_accounts(*txn);
    if (!all) return fail(explain(all.error()));
    for (auto& a : *all)
      if (only == 0 || a.id == only) accounts.push_back(std::move(a));
  }
  if (accounts.empty()) return fail(only ? "no such collect account" : "no collect accounts");
  auto key = store::load_or_create_seal_key(env.options().data_dir);
  if (!key) return fail("cannot use the key file collect.key: " + explain(key.error()));

  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    net::UvExecutor executor(&loop);
    store::Writer writer(env, executor);
    core::SystemClock system_clock;
    collect::CollectClock clock(system_clock);  // a test may move it (clock_override.h)
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    collect::RunContext context(&loop, env, writer, executor, clock);
    fill_run_context(context, settings);
    // "collecting alice@isp: 120/1000 mails, 6.1 MB": rewritten in place on a
    // terminal; elsewhere one line a second at most, and the last one.
    auto last_line = std::chrono::steady_clock::time_point{};
    context.progress = [&](const store::CollectAccount& a, const collect::Progress& p) {
      const bool last = p.fetched == p.to_fetch;
      const auto now = std::chrono::steady_clock::now();
      if (!tty && !last && p.fetched != 0 && now - last_line < std::chrono::seconds(1)) return;
      last_line = now;
      std::fprintf(stderr, "%scollecting %s@%s: %zu/%zu mails, %s%s", tty ? "\r" : "",
                   a.user.c_str(), a.host.c_str(), p.fetched, p.to_fetch,
                   megabytes(p.bytes).c_str(), tty && !last ? "" : "\n");
      std::fflush(stderr);
    };
    collect::Collector collector(context, *key);
    for (const auto& a : accounts) {
      bool finished = false;
      const bool started =
          collector.run_now(a, [&](const store::CollectAccount& acc, const collect::RunReport& r) {
            finished = true;
            if (!r.outcome.ok()) status = 1;
            std::printf("%" PRIu64 " %s@%s: %zu collected, %zu deleted on the server%s%s\n", acc.id,
                        acc.user.c_str(), acc.host.c_str(), r.outcome.fetched, r.outcome.deleted,
                        r.outcome.ok() && r.skipped_too_big == 0 ? "" : " — ",
                        r.outcome.ok() && r.skipped_too_big == 0 ? "" : r.sentence.c_str());
          });
      if (!started) {
        std::printf("%" PRIu64 ": a run is already under way (the server is collecting)\n", a.id);
        continue;
      }
      while (!finished && uv_run(&loop, UV_RUN_ONCE) != 0) {
      }
    }
    collector.stop();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return status;
}

}  // namespace

int collect_command(store::Env& env, const Settings& settings, const CommandLine& cl) {
  const std::string sub = cl.positional.empty() ? "" : cl.positional[0];
  if (sub == "add") return add(env, cl);
  if (sub == "del") return del(env, cl);
  if (sub == "list") return list(env);
  if (sub == "now") return now(env, settings, cl);
  if (sub == "pin") return pin(env, cl);
  return usage("collect needs add, del, list, now or pin");
}

}  // namespace postern::app
