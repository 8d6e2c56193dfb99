// Parsing argv into a CommandLine: which options take a value, which are flags.
#include <set>

#include "app/cli.h"

namespace postern::app {

core::Result<CommandLine, std::string> parse_command_line(
    const std::vector<std::string_view>& args) {
  static const std::set<std::string_view> verbs = {"serve",  "status", "domain", "user",
                                                   "alias",  "set",    "events", "export",
                                                   "import", "trace",  "collect"};
  static const std::set<std::string_view> with_value = {
      "--board", "--data", "--quota", "--maildir", "--max-hops", "--probes", "--limit",
      // collect add
      "--host", "--port", "--tls", "--user", "--interval", "--keep", "--pin"};
  static const std::set<std::string_view> flags = {"--check", "--password-stdin", "--foreground",
                                                   "--json", "--allow-plain"};
  CommandLine out;
  if (args.empty() || verbs.count(args[0]) == 0) {
    return std::string("unknown command '") + (args.empty() ? "" : std::string(args[0])) + "'";
  }
  out.verb = std::string(args[0]);
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.rfind("--", 0) == 0) {
      if (with_value.count(a)) {
        if (i + 1 >= args.size()) return "option " + std::string(a) + " needs a value";
        out.options[std::string(a.substr(2))] = std::string(args[++i]);
      } else if (flags.count(a)) {
        out.options[std::string(a.substr(2))] = "";
      } else {
        return "unknown option '" + std::string(a) + "'";
      }
    } else {
      out.positional.emplace_back(a);
    }
  }
  return out;
}

}  // namespace postern::app
