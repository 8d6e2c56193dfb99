// The running configuration: compiled defaults < board profile < command line
// (--data) < settings saved in the store.
//
// One typed Settings, validated in one place (apply()), which also records
// where each value came from. Services never see it: app fills each service's
// own Limits from it (smtp::Limits, pop3::Limits, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace postern::app {

enum class PartialPolicy { discard, keep_as_alert };

// Where a value came from; a key absent from Settings::origins has its compiled default.
enum class Origin { compiled_default, board, command_line, saved };
const char* to_string(Origin origin);  // "default", "board", "command line", "saved"

struct Settings {
  std::string board = "host";
  std::string description;
  std::string data_dir = "./postern-data";
  std::string hostname = "postern.local";
  std::string bind_address = "127.0.0.1";
  std::uint16_t smtp_port = 2525;
  std::uint16_t pop3_port = 1110;
  std::uint16_t pop3s_port = 1995;
  std::uint16_t http_port = 8080;
  std::uint16_t https_port = 8443;
  std::size_t max_connections = 200;
  std::size_t max_connections_per_ip = 20;
  std::uint64_t max_message_bytes = 50ull << 20;
  // LMDB reserves the map as address space: 512 MiB on 32-bit targets (DESIGN.md).
  std::uint64_t map_size_mb = sizeof(void*) == 4 ? 512 : 4096;
  std::uint64_t memory_budget_mb = 256;
  std::size_t io_buffer_kb = 64;
  unsigned pbkdf2_iterations = 100'000;
  // Verified-credential cache (store/credential_cache.h): logins answered without PBKDF2
  // after a success less than auth_cache_ttl ago. 0 entries or 0 s: off.
  std::size_t auth_cache_entries = 256;
  std::chrono::seconds auth_cache_ttl{3600};
  // TLS session tickets (RFC 5077): how long a client may resume; 0: no tickets.
  std::chrono::seconds tls_ticket_lifetime{43200};
  std::chrono::seconds smtp_timeout{300};       // RFC 5321 §4.5.3.2.7 server timeout
  std::chrono::seconds pop3_idle_timeout{600};  // RFC 1939 §3: at least 10 minutes
  // After binding ports as root, postern runs as this user (empty: stays root, with a warning).
  std::string run_as_user = "nobody";
  bool allow_plaintext_login = false;  // POP3 USER/PASS without TLS off loopback
  // Dedup (see src/dedup): 5 days, RFC 5321 §4.5.4.1 give-up time is "at least 4-5 days".
  bool allow_duplicates = false;
  // The rule a new domain starts with; each domain's own rule is in the store
  // (`postern domain rule`). Message-ID catches the seed's second path too.
  store::DedupRule dedup_rule = store::DedupRule::content_or_message_id;
  std::chrono::hours dedup_window{120};
  PartialPolicy partial_policy = PartialPolicy::discard;
  // Link monitor (app/link_service): numeric addresses, comma-separated; empty means the
  // default gateway and the DNS server (diag::default_targets()) when link_auto_probes is on.
  std::vector<std::string> link_monitor_targets;
  // Probes nobody named: the gateway and DNS server above, and the peers of broken sessions
  // (monitored and auto-traced). Off on the loopback-only host board, on for devices.
  bool link_auto_probes = true;
  std::chrono::seconds link_monitor_interval{60};
  // Keys set by apply(), with their origin; the rest are compiled defaults.
  std::map<std::string, Origin, std::less<>> origins;

  Origin origin_of(std::string_view key) const;
};

// A user-facing message saying what is wrong and what to do.
using SettingError = std::string;

// Sets one key from its text form, validating it, and records its origin. The
// only place values are checked; nothing changes when the value is refused.
core::Result<void, SettingError> apply(Settings& settings, std::string_view key,
                                       std::string_view value, Origin origin);

// Applies a "key = value" profile text (comments with '#'); line numbers in errors.
// Every value it sets has Origin::board.
core::Result<void, SettingError> apply_profile(Settings& settings, std::string_view text,
                                               std::string_view origin);

// The keys a saved setting (store) may change: from the page or `postern set`.
// The rest come from the board profile or the command line only.
bool is_runtime_key(std::string_view key);

// A saved key a running postern applies on reload (SIGHUP, or a change from
// the page). False for the ports and connection limits, which the listeners
// are bound with at start, and for every key that is not a runtime key.
bool applies_live(std::string_view key);

// All keys with their current values, in text form (for `postern set` and the page).
std::vector<std::pair<std::string, std::string>> describe(const Settings& settings);

// One sentence for an owner: what the key does, its unit and range.
std::string_view help(std::string_view key);

// The saved keys whose value in `current` differs from `started`, the
// Settings the process bound its listeners with, and that only a restart
// applies: what waits for a restart after a reload.
std::vector<std::string> waiting_for_restart(const Settings& started, const Settings& current);

// The keys whose value differs between `before` and `after`, in describe() order.
std::vector<std::string> changed_keys(const Settings& before, const Settings& after);

}  // namespace postern::app
