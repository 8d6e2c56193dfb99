// postern's command line: serve, user, domain, status, events, export, import.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli.h"

namespace {

void usage(std::FILE* out) {
  std::fputs(
      "usage: postern <command> [--board NAME] [--data DIR] ...\n"
      "\n"
      "  serve                          run the appliance (SMTP, POP3, status page)\n"
      "  status [--check]               counts from the store; --check verifies it\n"
      "  domain add|del NAME            manage the domains postern receives mail for\n"
      "  domain rule NAME RULE          duplicate rule: content, content-or-message-id, off\n"
      "  domain list\n"
      "  user add ADDRESS [--quota MB]  add a mailbox; the password is read from stdin:\n"
      "                                 on a terminal twice, without echo; piped, one line\n"
      "                                 (or two equal lines; two that differ are refused)\n"
      "  user passwd ADDRESS            set a new password (read from stdin, as for add)\n"
      "  user del ADDRESS               remove a mailbox and its mail\n"
      "  user list\n"
      "  alias add|del ADDRESS [TARGET] route ADDRESS to TARGET's mailbox\n"
      "  set                            every setting, where its value comes from (default,\n"
      "                                 board, command line, saved) and when a change applies\n"
      "  set KEY                        one setting and what it does\n"
      "  set KEY VALUE                  save a setting; a running postern applies it on\n"
      "                                 SIGHUP, except ports and connection limits: restart\n"
      "  events [--limit N] [--json]    the event log, newest first, in sentences with\n"
      "                                 local times; --json: one JSON object a line\n"
      "  export --maildir DIR           write every mailbox as a standard Maildir\n"
      "  import --maildir DIR           read mailboxes from a Maildir tree\n"
      "  trace HOST [--max-hops N] [--probes N]\n"
      "                                 traceroute of the mail path (MX first)\n"
      "\n"
      "  --board NAME   board profile (host, nas-arm128, router-mips64); default host\n"
      "  --data DIR     data folder; default from the board profile\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    usage(args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("postern %s\n", POSTERN_VERSION);
    return 0;
  }
  auto parsed = postern::app::parse_command_line(args);
  if (!parsed) {
    std::fprintf(stderr, "postern: %s\n(run `postern help` for usage)\n", parsed.error().c_str());
    return 2;
  }
  return postern::app::run(*parsed);
}
