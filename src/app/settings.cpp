// Settings: parsing and validating each key in one place.
#include "app/settings.h"

#include "dedup/policy.h"
#include "diag/target.h"

#include <charconv>
#include <cstdio>
#include <functional>

namespace postern::app {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

core::Result<std::uint64_t, SettingError> parse_number(std::string_view key, std::string_view value,
                                                       std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return SettingError(std::string(key) + ": '" + std::string(value) + "' is not a whole number");
  }
  if (n < min || n > max) {
    return SettingError(std::string(key) + ": " + std::to_string(n) + " is out of range; use " +
                        std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

core::Result<bool, SettingError> parse_bool(std::string_view key, std::string_view value) {
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  return SettingError(std::string(key) + ": use yes or no");
}

bool valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return name.front() != '-' && name.front() != '.';
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

using Setter = std::function<core::Result<void, SettingError>(Settings&, std::string_view)>;

template <class T>
Setter number(T Settings::*field, std::uint64_t min, std::uint64_t max, const char* key) {
  return [=](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
    auto n = parse_number(key, v, min, max);
    if (!n) return n.error();
    s.*field = static_cast<T>(*n);
    return {};
  };
}

Setter seconds(std::chrono::seconds Settings::*field, std::uint64_t min, std::uint64_t max,
               const char* key) {
  return [=](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
    auto n = parse_number(key, v, min, max);
    if (!n) return n.error();
    s.*field = std::chrono::seconds(*n);
    return {};
  };
}

Setter flag(bool Settings::*field, const char* key) {
  return [=](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
    auto b = parse_bool(key, v);
    if (!b) return b.error();
    s.*field = *b;
    return {};
  };
}

Setter text(std::string Settings::*field) {
  return [=](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
    s.*field = std::string(v);
    return {};
  };
}

// Whether a saved value may be changed from the page or `postern set`, and
// when a running postern uses it.
enum class Scope {
  start_only,  // board profile or command line; read once at start
  live,        // saved; applied by the next reload (SIGHUP, or a change from the page)
  restart,     // saved; the listeners are bound with it, so only a restart applies it
};

struct Key {
  const char* name;
  Scope scope;
  Setter set;
  const char* help;
};

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {"description", Scope::start_only, text(&Settings::description),
       "A line about the board, from its profile."},
      {"data_dir", Scope::start_only,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         if (v.empty()) return SettingError("data_dir: must not be empty");
         s.data_dir = std::string(v);
         return {};
       },
       "The folder of the store, the spool and the TLS key (board profile, or --data)."},
      {"hostname", Scope::live,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         if (!valid_hostname(v))
           return SettingError("hostname: use letters, digits, '-' and '.', e.g. mail.example.org");
         s.hostname = std::string(v);
         return {};
       },
       "The name in the SMTP and POP3 greetings. The self-signed certificate keeps the name "
       "it was made with on the first start."},
      {"bind_address", Scope::start_only, text(&Settings::bind_address),
       "The address every service listens on (board profile)."},
      {"run_as_user", Scope::start_only, text(&Settings::run_as_user),
       "The user postern runs as after binding its ports as root (board profile)."},
      {"smtp_port", Scope::restart, number(&Settings::smtp_port, 0, 65535, "smtp_port"),
       "SMTP port (0: any free port)."},
      {"pop3_port", Scope::restart, number(&Settings::pop3_port, 0, 65535, "pop3_port"),
       "POP3 port, with STLS (0: any free port)."},
      {"pop3s_port", Scope::restart, number(&Settings::pop3s_port, 0, 65535, "pop3s_port"),
       "POP3 over TLS port (0: any free port)."},
      {"http_port", Scope::restart, number(&Settings::http_port, 0, 65535, "http_port"),
       "Status page port, plain HTTP (0: any free port)."},
      {"https_port", Scope::restart, number(&Settings::https_port, 0, 65535, "https_port"),
       "Status page port, HTTPS (0: any free port)."},
      {"max_connections", Scope::restart,
       number(&Settings::max_connections, 1, 100000, "max_connections"),
       "Open connections per listener, 1 to 100000."},
      {"max_connections_per_ip", Scope::restart,
       number(&Settings::max_connections_per_ip, 1, 100000, "max_connections_per_ip"),
       "Open connections per client address and listener, 1 to 100000."},
      // RFC 5321 §4.5.3.1.7: the minimum message size is 64K octets.
      {"max_message_bytes", Scope::live,
       number(&Settings::max_message_bytes, 65536, 1ull << 32, "max_message_bytes"),
       "The largest message accepted, in bytes (at least 65536, RFC 5321)."},
      {"map_size_mb", Scope::restart, number(&Settings::map_size_mb, 8, 1ull << 20, "map_size_mb"),
       "The most the store may grow to, in MiB; a saved value takes effect at the next start."},
      {"memory_budget_mb", Scope::start_only,
       number(&Settings::memory_budget_mb, 8, 1ull << 20, "memory_budget_mb"),
       "The memory postern plans for, in MiB (board profile)."},
      {"io_buffer_kb", Scope::start_only, number(&Settings::io_buffer_kb, 4, 4096, "io_buffer_kb"),
       "Input buffer per connection, in KiB (board profile)."},
      {"pbkdf2_iterations", Scope::live,
       number(&Settings::pbkdf2_iterations, 10000, 10'000'000, "pbkdf2_iterations"),
       "PBKDF2 rounds for new passwords; existing hashes keep theirs."},
      {"auth_cache_entries", Scope::live,
       number(&Settings::auth_cache_entries, 0, 100000, "auth_cache_entries"),
       "POP3 logins remembered after a successful password check (0: none); see README."},
      {"auth_cache_ttl_s", Scope::live,
       seconds(&Settings::auth_cache_ttl, 0, 86400, "auth_cache_ttl_s"),
       "Seconds a remembered POP3 login stays valid; a failed attempt forgets it at once."},
      // RFC 5077 §5.6 leaves the lifetime to the server; a week at most (RFC 8446 §4.6.1).
      {"tls_ticket_lifetime_s", Scope::restart,
       seconds(&Settings::tls_ticket_lifetime, 0, 604800, "tls_ticket_lifetime_s"),
       "Seconds a TLS session ticket lets a client resume without a full handshake."},
      // RFC 5321 §4.5.3.2.7: the server timeout SHOULD be at least 5 minutes.
      {"smtp_timeout_s", Scope::live,
       seconds(&Settings::smtp_timeout, 300, 86400, "smtp_timeout_s"),
       "Seconds an SMTP client may stay silent (at least 300, RFC 5321); new sessions."},
      // RFC 1939 §3: the autologout timer MUST be at least 10 minutes.
      {"pop3_idle_timeout_s", Scope::live,
       seconds(&Settings::pop3_idle_timeout, 600, 86400, "pop3_idle_timeout_s"),
       "Seconds a POP3 client may stay idle (at least 600, RFC 1939); new sessions."},
      {"allow_plaintext_login", Scope::live,
       flag(&Settings::allow_plaintext_login, "allow_plaintext_login"),
       "yes: POP3 passwords without TLS from other machines too (old clients on a trusted "
       "network). Logins from the appliance itself (127.0.0.0/8, ::1) never need TLS, "
       "whatever this says: that password never crosses a network."},
      {"allow_duplicates", Scope::live, flag(&Settings::allow_duplicates, "allow_duplicates"),
       "yes: store every copy a sender retries; no: store the first and count the rest."},
      {"dedup_rule", Scope::live,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         auto rule = dedup::parse_rule(v);
         if (!rule) return SettingError("dedup_rule: use content, content-or-message-id or off");
         s.dedup_rule = *rule;
         return {};
       },
       "The duplicate rule a new domain starts with: content, content-or-message-id or off."},
      {"dedup_window_h", Scope::live,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         auto n = parse_number("dedup_window_h", v, 1, 24 * 60);
         if (!n) return n.error();
         s.dedup_window = std::chrono::hours(*n);
         return {};
       },
       "Hours a message is remembered for duplicates (senders retry 4-5 days: 120)."},
      {"partial_policy", Scope::live,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         if (v == "discard")
           s.partial_policy = PartialPolicy::discard;
         else if (v == "keep-as-alert")
           s.partial_policy = PartialPolicy::keep_as_alert;
         else
           return SettingError("partial_policy: use discard or keep-as-alert");
         return {};
       },
       "A transfer that broke off: discard it, or keep-as-alert (kept, labelled partial)."},
      {"link_monitor_targets", Scope::live,
       [](Settings& s, std::string_view v) -> core::Result<void, SettingError> {
         std::vector<std::string> targets;
         while (!v.empty()) {
           const std::size_t comma = v.find(',');
           const std::string_view item = trim(v.substr(0, comma));
           v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
           auto target = diag::validate_target(item);
           if (!target || target->kind == diag::TargetKind::host_name || targets.size() >= 16)
             return SettingError(
                 "link_monitor_targets: up to 16 IP addresses separated by commas, e.g. "
                 "192.168.1.1,9.9.9.9 (empty: the gateway and DNS server)");
           targets.push_back(target->text);
         }
         s.link_monitor_targets = std::move(targets);
         return {};
       },
       "Addresses the link monitor pings, comma-separated (empty: none on the host board; the "
       "gateway and DNS server on device boards, where link_auto_probes is yes)."},
      {"link_monitor_interval_s", Scope::live,
       seconds(&Settings::link_monitor_interval, 1, 86400, "link_monitor_interval_s"),
       "Seconds between link monitor rounds."},
      // A board property: probes nobody named (gateway, DNS server, peers of broken sessions).
      {"link_auto_probes", Scope::start_only, flag(&Settings::link_auto_probes, "link_auto_probes"),
       "yes: the link monitor also probes the gateway, the DNS server and peers of broken "
       "sessions (device boards); no: only link_monitor_targets (host board)."},
  };
  return table;
}

const Key* find_key(std::string_view name) {
  for (const Key& k : keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace

const char* to_string(Origin origin) {
  switch (origin) {
    case Origin::compiled_default:
      return "default";
    case Origin::board:
      return "board";
    case Origin::command_line:
      return "command line";
    case Origin::saved:
      return "saved";
  }
  return "default";
}

Origin Settings::origin_of(std::string_view key) const {
  auto it = origins.find(key);
  return it == origins.end() ? Origin::compiled_default : it->second;
}

core::Result<void, SettingError> apply(Settings& settings, std::string_view key,
                                       std::string_view value, Origin origin) {
  value = trim(value);
  const Key* k = find_key(key);
  if (k == nullptr) return SettingError("unknown setting '" + std::string(key) + "'");
  if (auto set = k->set(settings, value); !set) return set;
  settings.origins.insert_or_assign(std::string(key), origin);
  return {};
}

core::Result<void, SettingError> apply_profile(Settings& settings, std::string_view text,
                                               std::string_view origin) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    std::size_t eq = line.find('=');
    std::string where = std::string(origin) + ":" + std::to_string(line_number) + ": ";
    if (eq == std::string_view::npos) return SettingError(where + "expected 'key = value'");
    auto applied =
        apply(settings, trim(line.substr(0, eq)), trim(line.substr(eq + 1)), Origin::board);
    if (!applied) return SettingError(where + applied.error());
  }
  return {};
}

bool is_runtime_key(std::string_view key) {
  const Key* k = find_key(key);
  return k != nullptr && k->scope != Scope::start_only;
}

bool applies_live(std::string_view key) {
  const Key* k = find_key(key);
  return k != nullptr && k->scope == Scope::live;
}

std::string_view help(std::string_view key) {
  if (key == "board") return "The board profile: --board, or host.";
  const Key* k = find_key(key);
  return k == nullptr ? std::string_view() : std::string_view(k->help);
}

std::vector<std::string> changed_keys(const Settings& before, const Settings& after) {
  const auto old_values = describe(before);
  const auto new_values = describe(after);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < old_values.size() && i < new_values.size(); ++i) {
    if (old_values[i].second != new_values[i].second) out.push_back(new_values[i].first);
  }
  return out;
}

std::vector<std::string> waiting_for_restart(const Settings& started, const Settings& current) {
  std::vector<std::string> out;
  for (std::string& key : changed_keys(started, current)) {
    if (is_runtime_key(key) && !applies_live(key)) out.push_back(std::move(key));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> describe(const Settings& s) {
  const char* rule = dedup::to_string(s.dedup_rule);
  return {
      {"board", s.board},
      {"data_dir", s.data_dir},
      {"hostname", s.hostname},
      {"bind_address", s.bind_address},
      {"run_as_user", s.run_as_user},
      {"smtp_port", std::to_string(s.smtp_port)},
      {"pop3_port", std::to_string(s.pop3_port)},
      {"pop3s_port", std::to_string(s.pop3s_port)},
      {"http_port", std::to_string(s.http_port)},
      {"https_port", std::to_string(s.https_port)},
      {"max_connections", std::to_string(s.max_connections)},
      {"max_connections_per_ip", std::to_string(s.max_connections_per_ip)},
      {"max_message_bytes", std::to_string(s.max_message_bytes)},
      {"map_size_mb", std::to_string(s.map_size_mb)},
      {"memory_budget_mb", std::to_string(s.memory_budget_mb)},
      {"io_buffer_kb", std::to_string(s.io_buffer_kb)},
      {"pbkdf2_iterations", std::to_string(s.pbkdf2_iterations)},
      {"auth_cache_entries", std::to_string(s.auth_cache_entries)},
      {"auth_cache_ttl_s", std::to_string(s.auth_cache_ttl.count())},
      {"tls_ticket_lifetime_s", std::to_string(s.tls_ticket_lifetime.count())},
      {"smtp_timeout_s", std::to_string(s.smtp_timeout.count())},
      {"pop3_idle_timeout_s", std::to_string(s.pop3_idle_timeout.count())},
      {"allow_plaintext_login", s.allow_plaintext_login ? "yes" : "no"},
      {"allow_duplicates", s.allow_duplicates ? "yes" : "no"},
      {"dedup_rule", rule},
      {"dedup_window_h", std::to_string(s.dedup_window.count())},
      {"partial_policy", s.partial_policy == PartialPolicy::discard ? "discard" : "keep-as-alert"},
      {"link_monitor_targets", join(s.link_monitor_targets)},
      {"link_auto_probes", s.link_auto_probes ? "yes" : "no"},
      {"link_monitor_interval_s", std::to_string(s.link_monitor_interval.count())},
  };
}

}  // namespace postern::app
