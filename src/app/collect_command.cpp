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

#include "app/collect_service.h"
#include "app/config.h"
#include "collect/collector.h"
#include "net/uv_executor.h"
#include "store/collect_accounts.h"
#include "store/sealed.h"
#include "tls/peer_verifier.h"

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
               "       postern collect del ID | list | now [ID]\n",
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
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::fputs("Password of the external account: ", stderr);
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputs("\n", stderr);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
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
  store::CollectAccount a;
  a.mailbox = cl.positional[1];
  a.host = option(cl, "host");
  a.user = option(cl, "user");
  if (a.host.empty() || a.user.empty()) return usage("collect add needs --host and --user");
  const std::string tls = option(cl, "tls", "pop3s");
  if (tls == "pop3s") {
    a.tls = store::CollectTls::pop3s;
  } else if (tls == "stls") {
    a.tls = store::CollectTls::stls;
  } else if (tls == "plain") {
    if (cl.options.count("allow-plain") == 0)
      return usage("--tls plain sends the password in clear text: add --allow-plain to confirm");
    a.tls = store::CollectTls::plain;
  } else {
    return usage("--tls is pop3s, stls or plain");
  }
  std::uint64_t n = a.tls == store::CollectTls::pop3s ? 995 : 110;
  if (cl.options.count("port") && (!parse_u64(option(cl, "port"), n) || n == 0 || n > 65535))
    return usage("--port is 1..65535");
  a.port = static_cast<std::uint16_t>(n);
  n = 900;
  if (cl.options.count("interval") &&
      (!parse_u64(option(cl, "interval"), n) || n < 60 || n > 7 * 86400))
    return usage("--interval is 60..604800 seconds");
  a.interval_seconds = static_cast<std::uint32_t>(n);
  const std::string keep = option(cl, "keep", "leave");
  if (keep == "leave") {
    a.keep = store::CollectKeep::keep;
  } else if (keep == "delete") {
    a.keep = store::CollectKeep::delete_once_collected;
  } else if (keep.size() > 1 && keep.back() == 'd' &&
             parse_u64(keep.substr(0, keep.size() - 1), n) && n >= 1 && n <= 3650) {
    a.keep = store::CollectKeep::delete_after_days;
    a.delete_after_days = static_cast<std::uint32_t>(n);
  } else {
    return usage("--keep is leave, delete (once collected) or Nd (delete after N days)");
  }
  if (cl.options.count("pin")) {
    a.pin = tls::PeerVerifier::normalize_pin(option(cl, "pin"));
    if (a.pin.empty()) return usage("--pin is the 64 hex digits of the certificate's SHA-256");
  }
  const std::string password = read_secret();
  if (password.empty()) return fail("no password given (on stdin)");
  auto key = store::load_or_create_seal_key(env.options().data_dir);
  if (!key) return fail("cannot use the key file collect.key: " + explain(key.error()));
  auto sealed = store::seal(*key, password);
  if (!sealed) return fail("cannot encrypt the password: " + explain(sealed.error()));
  a.sealed_password = std::move(*sealed);
  auto id = store::run_write(env, [&](store::WriteTxn& t) { return add_collect_account(t, a); });
  if (!id) return fail("cannot add the account: " + explain(id.error()));
  std::printf("added collect account %" PRIu64 ": %s@%s:%u (%s) into %s\n", *id, a.user.c_str(),
              a.host.c_str(), a.port, tls_name(a.tls), a.mailbox.c_str());
  return 0;
}

int del(store::Env& env, const CommandLine& cl) {
  std::uint64_t id = 0;
  if (cl.positional.size() != 2 || !parse_u64(cl.positional[1], id))
    return usage("collect del needs the account ID (see `postern collect list`)");
  auto r = store::run_write(env, [&](store::WriteTxn& t) { return drop_collect_account(t, id); });
  if (!r) return fail("cannot remove account " + std::to_string(id) + ": " + explain(r.error()));
  std::printf("removed collect account %" PRIu64 "\n", id);
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
    core::SystemClock clock;
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
  return usage("collect needs add, del, list or now");
}

}  // namespace postern::app
