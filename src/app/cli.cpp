// The command line's verbs: domain, user, alias (through the admin layer),
// status, export, import; `set` and `events` are in cli_settings.cpp.
#include "app/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "address/address.h"
#include "app/admin.h"
#include "app/cli_verbs.h"
#include "app/collect_command.h"
#include "app/config.h"
#include "app/serve.h"
#include "app/trace_command.h"
#include "dedup/policy.h"
#include "store/check.h"
#include "store/maildir.h"

namespace postern::app {

int fail(const std::string& message) {
  std::fprintf(stderr, "postern: %s\n", message.c_str());
  return 1;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "postern: %s\n(run `postern help` for usage)\n", message.c_str());
  return 2;
}

namespace {

std::string arg(const CommandLine& cl, std::size_t index) {
  return index < cl.positional.size() ? cl.positional[index] : std::string();
}

// `text` followed by spaces up to `columns` terminal columns (UTF-8 aware).
std::string padded(const std::string& text, std::size_t columns) {
  std::size_t width = address::display_width(text);
  return text + std::string(width < columns ? columns - width : 0, ' ');
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

// Prints an admin verb's sentence: stdout when done, stderr (exit 1) when not.
int report(const Answer& answer) {
  if (!answer.ok) return fail(answer.sentence);
  std::printf("%s\n", answer.sentence.c_str());
  return 0;
}

int domain_command(Admin& admin, const CommandLine& cl) {
  const std::string action = arg(cl, 0);
  const std::string name = arg(cl, 1);
  Answer answer;
  auto keep = [&](Answer a) { answer = std::move(a); };
  if (action == "list" && cl.positional.size() == 1) {
    auto domains = admin.list_domains();
    if (!domains) return fail(domains.error());
    print_domains(*domains);
    return 0;
  }
  if (action == "add" && cl.positional.size() == 2) {
    admin.add_domain(name, {}, keep);
  } else if (action == "del" && cl.positional.size() == 2) {
    admin.del_domain(name, keep);
  } else if (action == "rule" && cl.positional.size() == 3) {
    // Which duplicate fingerprints are checked for this domain's mailboxes (src/dedup).
    admin.set_domain_rule(name, arg(cl, 2), keep);
  } else {
    return usage_error(
        "use `postern domain add NAME`, `domain del NAME`, "
        "`domain rule NAME content|content-or-message-id|off` or `domain list`");
  }
  return report(answer);
}

int user_command(Admin& admin, const CommandLine& cl) {
  const std::string action = arg(cl, 0);
  const std::string address = arg(cl, 1);
  if (action == "list" && cl.positional.size() == 1) {
    auto users = admin.list_users();
    if (!users) return fail(users.error());
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
  const bool known = action == "add" || action == "del" || action == "passwd";
  if (!known || cl.positional.size() != 2)
    return usage_error("use `postern user add|del|passwd ADDRESS` or `user list`");
  std::uint64_t quota = 0;
  if (auto q = cl.options.find("quota"); q != cl.options.end()) {
    char* end = nullptr;
    quota = std::strtoull(q->second.c_str(), &end, 10) << 20;
    if (end == q->second.c_str() || *end != '\0') return usage_error("--quota takes megabytes");
  }
  Answer answer;
  auto keep = [&](Answer a) { answer = std::move(a); };
  if (action == "del") {
    admin.del_user(address, keep);
    return report(answer);
  }
  auto password = read_password();
  if (!password) return fail(password.error().sentence);
  if (action == "add") {
    admin.add_user(address, std::move(*password), quota, keep);
  } else {
    admin.set_password(address, std::move(*password), keep);
  }
  return report(answer);
}

int alias_command(Admin& admin, const CommandLine& cl) {
  const std::string action = arg(cl, 0);
  if (action == "list" && cl.positional.size() == 1) {
    auto aliases = admin.list_aliases();
    if (!aliases) return fail(aliases.error());
    for (const auto& [from, to] : *aliases)
      std::printf("%s -> %s\n", address::display_address(from).c_str(),
                  address::display_address(to).c_str());
    return 0;
  }
  Answer answer;
  auto keep = [&](Answer a) { answer = std::move(a); };
  if (action == "add" && cl.positional.size() == 3) {
    admin.add_alias(arg(cl, 1), arg(cl, 2), keep);
  } else if (action == "del" && cl.positional.size() == 2) {
    admin.del_alias(arg(cl, 1), keep);
  } else {
    return usage_error(
        "use `postern alias add ADDRESS TARGET`, `alias del ADDRESS` or `alias list`");
  }
  return report(answer);
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
  InPlaceRunner runner(store);
  Admin admin(store, runner, Actor::cli, *settings);
  if (cl.verb == "domain") return domain_command(admin, cl);
  if (cl.verb == "user") return user_command(admin, cl);
  if (cl.verb == "alias") return alias_command(admin, cl);
  if (cl.verb == "set") return set_command(admin, *settings, cl);
  if (cl.verb == "status") return status_command(store, cl);
  if (cl.verb == "events") return events_command(store, cl);
  if (cl.verb == "export" || cl.verb == "import") return maildir_command(store, cl);
  if (cl.verb == "collect") return collect_command(store, *settings, cl);
  return usage_error("unknown command '" + cl.verb + "'");
}

}  // namespace postern::app
