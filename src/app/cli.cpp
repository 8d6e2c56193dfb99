// The administrative verbs: domain, user, alias, set, status, events, export, import.
#include "app/cli.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "address/address.h"
#include "app/config.h"
#include "app/serve.h"
#include "app/trace_command.h"
#include "dedup/policy.h"
#include "store/catalogue.h"
#include "store/check.h"
#include "store/events.h"
#include "store/maildir.h"
#include "store/password.h"

namespace postern::app {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "postern: %s\n", message.c_str());
  return 1;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "postern: %s\n(run `postern help` for usage)\n", message.c_str());
  return 2;
}

// Reads a password from stdin; on a terminal, twice and without echo.
// Returns an empty string and sets `problem` on failure.
std::string read_password(std::string& problem) {
  bool tty = ::isatty(STDIN_FILENO) == 1;
  auto read_line = [&](const char* prompt) {
    termios saved{};
    if (tty) {
      std::fputs(prompt, stderr);
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
  };
  std::string password = read_line("New password: ");
  if (tty && read_line("Repeat it: ") != password) {
    problem = "the passwords differ";
    return {};
  }
  if (password.size() < 8) {
    problem = "the password must have at least 8 characters";
    return {};
  }
  return password;
}

std::string arg(const CommandLine& cl, std::size_t index) {
  return index < cl.positional.size() ? cl.positional[index] : std::string();
}

// `text` followed by spaces up to `columns` terminal columns (UTF-8 aware).
std::string padded(const std::string& text, std::size_t columns) {
  std::size_t width = address::display_width(text);
  return text + std::string(width < columns ? columns - width : 0, ' ');
}

// "bücher.example (xn--bcher-kva.example)" for an IDN, the name alone otherwise.
std::string shown_domain(std::string_view canonical) {
  std::string readable = address::display_domain(canonical);
  if (readable == canonical) return readable;
  return readable + " (" + std::string(canonical) + ")";
}

std::string shown_address(std::string_view canonical) {
  std::string readable = address::display_address(canonical);
  if (readable == canonical) return readable;
  return readable + " (" + std::string(canonical) + ")";
}

// `domain list`: the readable U-label form, then the stored A-label form where it differs,
// so both can be copied into `domain del` or a DNS zone.
void print_domains(const std::vector<store::DomainInfo>& domains) {
  std::size_t columns = 0;
  for (const auto& d : domains)
    columns = std::max(columns, address::display_width(address::display_domain(d.name)));
  for (const auto& d : domains) {
    std::string readable = address::display_domain(d.name);
    if (readable == d.name) {
      std::printf("%s\n", d.name.c_str());
    } else {
      std::printf("%s  %s\n", padded(readable, columns).c_str(), d.name.c_str());
    }
  }
}

int domain_command(store::Env& env, const Settings& settings, const CommandLine& cl) {
  std::string action = arg(cl, 0);
  std::string name = arg(cl, 1);
  if (action == "list") {
    auto txn = env.begin_read();
    if (!txn) return fail(explain(txn.error()));
    auto domains = store::list_domains(*txn);
    if (!domains) return fail(explain(domains.error()));
    print_domains(*domains);
    return 0;
  }
  if (!name.empty() && (action == "add" || action == "del" || action == "rule")) {
    // Canonical once, here, so the error can quote what was typed (src/address).
    auto canonical = address::canonical_domain(name);
    if (!canonical) return fail(address::explain(canonical.error()));
    name = *canonical;
  }
  if (action == "rule") {
    // Which duplicate fingerprints are checked for this domain's mailboxes (src/dedup).
    std::string rule = arg(cl, 2);
    auto value = dedup::parse_rule(rule);
    if (!value)
      return usage_error("use `postern domain rule NAME content|content-or-message-id|off`");
    auto set = store::run_write(
        env, [&](store::WriteTxn& txn) { return store::set_domain_dedup(txn, name, *value); });
    if (!set) return fail(explain(set.error()));
    std::printf("domain %s: dedup rule %s\n", shown_domain(name).c_str(), rule.c_str());
    return 0;
  }
  if ((action != "add" && action != "del") || name.empty())
    return usage_error(
        "use `postern domain add NAME`, `domain del NAME`, `domain rule NAME RULE` or `domain "
        "list`");
  auto done = store::run_write(env, [&](store::WriteTxn& txn) -> core::Result<void> {
    if (action == "add") {
      auto added = store::add_domain(txn, name, settings.dedup_rule);
      if (!added) return added.error();
      // RFC 5321 §4.5.1: every domain must accept mail for postmaster; users add
      // the mailbox or an alias, and RCPT resolves "postmaster" through it.
      return {};
    }
    return store::del_domain(txn, name);
  });
  if (!done) return fail(explain(done.error()));
  std::printf("domain %s: %s\n", shown_domain(name).c_str(), action == "add" ? "added" : "removed");
  return 0;
}

int user_command(store::Env& env, const Settings& settings, const CommandLine& cl) {
  std::string action = arg(cl, 0);
  std::string address = arg(cl, 1);
  if (action == "list") {
    auto txn = env.begin_read();
    if (!txn) return fail(explain(txn.error()));
    auto users = store::list_users(*txn);
    if (!users) return fail(explain(users.error()));
    // The readable form first; the stored A-label form last, where it differs.
    std::printf("%-40s %9s %12s %12s\n", "address", "messages", "bytes", "quota");
    for (const auto& u : *users) {
      std::string readable = address::display_address(u.address);
      std::string stored = readable == u.address ? "" : "  " + u.address;
      std::printf("%s %9" PRIu32 " %12" PRIu64 " %12s%s\n", padded(readable, 40).c_str(),
                  u.message_count, u.used_bytes,
                  u.quota_bytes ? std::to_string(u.quota_bytes).c_str() : "unlimited",
                  stored.c_str());
    }
    return 0;
  }
  if (address.empty() || (action != "add" && action != "del" && action != "passwd"))
    return usage_error("use `postern user add|del|passwd ADDRESS` or `user list`");
  // Checked before asking for a password, and canonical once (src/address).
  auto mailbox = address::parse_mailbox(address);
  if (!mailbox) return fail(address::explain(mailbox.error()));
  address = mailbox->key();
  std::string hash;
  if (action == "add" || action == "passwd") {
    std::string problem;
    std::string password = read_password(problem);
    if (!problem.empty()) return fail(problem);
    hash = store::hash_password(password, settings.pbkdf2_iterations);
  }
  std::uint64_t quota = 0;
  if (auto q = cl.options.find("quota"); q != cl.options.end()) {
    char* end = nullptr;
    quota = std::strtoull(q->second.c_str(), &end, 10) << 20;
    if (end == q->second.c_str() || *end != '\0') return usage_error("--quota takes megabytes");
  }
  auto done = store::run_write(env, [&](store::WriteTxn& txn) -> core::Result<void> {
    if (action == "add") {
      auto added = store::add_user(txn, address, hash, quota);
      if (!added) return added.error();
      return {};
    }
    if (action == "passwd") return store::set_password_hash(txn, address, hash);
    return store::del_user(txn, address);
  });
  if (!done) return fail(explain(done.error()));
  std::printf("user %s: %s\n", shown_address(address).c_str(),
              action == "add"   ? "added"
              : action == "del" ? "removed"
                                : "password changed");
  return 0;
}

int alias_command(store::Env& env, const CommandLine& cl) {
  std::string action = arg(cl, 0);
  std::string address = arg(cl, 1);
  std::string target = arg(cl, 2);
  if (action == "list") {
    auto txn = env.begin_read();
    if (!txn) return fail(explain(txn.error()));
    auto aliases = store::list_aliases(*txn);
    if (!aliases) return fail(explain(aliases.error()));
    for (const auto& [from, to] : *aliases)
      std::printf("%s -> %s\n", address::display_address(from).c_str(),
                  address::display_address(to).c_str());
    return 0;
  }
  if (!((action == "add" && !target.empty()) || (action == "del" && !address.empty())))
    return usage_error(
        "use `postern alias add ADDRESS TARGET`, `alias del ADDRESS` or `alias list`");
  for (std::string* name : {&address, &target}) {
    if (name->empty()) continue;
    auto mailbox = address::parse_mailbox(*name);
    if (!mailbox) return fail(address::explain(mailbox.error()));
    *name = mailbox->key();
  }
  auto done = store::run_write(env, [&](store::WriteTxn& txn) {
    return action == "add" ? store::add_alias(txn, address, target)
                           : store::del_alias(txn, address);
  });
  if (!done) return fail(explain(done.error()));
  std::printf("alias %s: %s\n", shown_address(address).c_str(),
              action == "add" ? "added" : "removed");
  return 0;
}

int set_command(store::Env& env, Settings& settings, const CommandLine& cl) {
  if (cl.positional.empty()) {
    for (const auto& [key, value] : describe(settings))
      std::printf("%-24s %s%s\n", key.c_str(), value.c_str(),
                  is_runtime_key(key) ? "" : "   (board profile)");
    return 0;
  }
  if (cl.positional.size() != 2) return usage_error("use `postern set KEY VALUE`");
  const std::string& key = cl.positional[0];
  const std::string& value = cl.positional[1];
  if (!is_runtime_key(key))
    return fail("'" + key +
                "' comes from the board profile and cannot be saved; see `postern set`");
  if (auto valid = apply(settings, key, value); !valid) return fail(valid.error());
  auto saved = store::run_write(
      env, [&](store::WriteTxn& txn) { return store::set_setting(txn, key, value); });
  if (!saved) return fail(explain(saved.error()));
  std::printf("%s = %s (a running postern applies it on SIGHUP)\n", key.c_str(), value.c_str());
  return 0;
}

int status_command(store::Env& env, const CommandLine& cl) {
  auto counts = store::store_counts(env);
  if (!counts) return fail(explain(counts.error()));
  const auto& c = *counts;
  std::printf("domains    %" PRIu64 "\nusers      %" PRIu64 "\naliases    %" PRIu64
              "\nmessages   %" PRIu64 "\nbodies     %" PRIu64 " (%" PRIu64
              " bytes)\n"
              "events     %" PRIu64 "\ndedup rows %" PRIu64 "\nmap        %" PRIu64 " of %" PRIu64
              " bytes used\n",
              c.domains, c.users, c.aliases, c.messages, c.bodies, c.body_bytes, c.events, c.dedup,
              c.map_used_bytes, c.map_bytes);
  if (cl.options.count("check")) {
    auto checked = store::check_consistency(env, /*deep=*/true);
    if (!checked) return fail("store check failed: " + explain(checked.error()));
    std::printf("check      ok\n");
  }
  return 0;
}

int events_command(store::Env& env, const CommandLine& cl) {
  std::size_t limit = 50;
  if (auto l = cl.options.find("limit"); l != cl.options.end()) {
    char* end = nullptr;
    limit = std::strtoul(l->second.c_str(), &end, 10);
    if (end == l->second.c_str() || *end != '\0' || limit == 0)
      return usage_error("--limit takes a positive number");
  }
  auto txn = env.begin_read();
  if (!txn) return fail(explain(txn.error()));
  auto events = store::query_events(*txn, limit);
  if (!events) return fail(explain(events.error()));
  for (const auto& e : *events) {
    std::time_t t = static_cast<std::time_t>(e.time);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    std::printf("%s %s %s\n", when, e.kind.c_str(), e.text.c_str());
  }
  return 0;
}

int maildir_command(store::Env& env, const CommandLine& cl) {
  auto dir = cl.options.find("maildir");
  if (dir == cl.options.end() || dir->second.empty())
    return usage_error("use `postern " + cl.verb + " --maildir DIR`");
  bool tty = ::isatty(STDERR_FILENO) == 1;
  auto progress = [&](std::uint64_t done, std::uint64_t total) {
    if (tty || done == total || done % 100 == 0)
      std::fprintf(stderr, "%s%s: %" PRIu64 "/%" PRIu64 " messages%s", tty ? "\r" : "",
                   cl.verb.c_str(), done, total, tty && done != total ? "" : "\n");
  };
  auto stats = cl.verb == "export" ? store::export_maildir(env, dir->second, progress)
                                   : store::import_maildir(env, dir->second, progress);
  if (!stats) return fail(cl.verb + " failed: " + explain(stats.error()));
  std::printf("%sed %" PRIu64 " messages (%" PRIu64 " bytes) in %" PRIu64 " mailboxes\n",
              cl.verb.c_str(), stats->messages, stats->bytes, stats->mailboxes);
  return 0;
}

}  // namespace

int run(const CommandLine& cl) {
  auto settings = settings_from_command_line(cl);
  if (!settings) return usage_error(settings.error());
  if (cl.verb == "serve") return serve(*settings);
  if (cl.verb == "trace") return trace_command(cl);  // needs no store
  auto env = open_store(*settings);
  if (!env) return fail(env.error());
  store::Env& store = **env;
  if (cl.verb == "domain") return domain_command(store, *settings, cl);
  if (cl.verb == "user") return user_command(store, *settings, cl);
  if (cl.verb == "alias") return alias_command(store, cl);
  if (cl.verb == "set") return set_command(store, *settings, cl);
  if (cl.verb == "status") return status_command(store, cl);
  if (cl.verb == "events") return events_command(store, cl);
  if (cl.verb == "export" || cl.verb == "import") return maildir_command(store, cl);
  return usage_error("unknown command '" + cl.verb + "'");
}

}  // namespace postern::app
