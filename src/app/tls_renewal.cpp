// The TLS identity and the daily certificate check.
#include "app/tls_renewal.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>

#include "core/log.h"
#include "tls/credentials.h"

namespace postern::app {
namespace {

constexpr std::uint64_t kDayMs = 24ull * 3600 * 1000;
constexpr std::size_t kMaxAddresses = 32;

bool wildcard(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address == "*" || address.empty();
}

std::vector<std::string> interface_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr && out.size() < kMaxAddresses; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    char text[INET6_ADDRSTRLEN];
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text) == nullptr) continue;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) continue;
      if (::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text) == nullptr) continue;
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

tls::Identity tls_identity(const Settings& settings) {
  tls::Identity identity{settings.hostname, {}};
  if (wildcard(settings.bind_address)) {
    identity.addresses = interface_addresses();
  } else {
    unsigned char raw[16];
    if (::inet_pton(AF_INET, settings.bind_address.c_str(), raw) == 1 ||
        ::inet_pton(AF_INET6, settings.bind_address.c_str(), raw) == 1) {
      identity.addresses.push_back(settings.bind_address);
    }
  }
  return identity;
}

TlsRenewal::TlsRenewal(uv_loop_t* loop, core::Executor& executor, const core::Clock& clock,
                       tls::ServerConfig& config, std::string data_dir, tls::Identity identity)
    : executor_(executor),
      clock_(clock),
      config_(config),
      data_dir_(std::move(data_dir)),
      identity_(std::move(identity)),
      alive_(std::make_shared<bool>(true)),
      timer_(new uv_timer_t) {
  uv_timer_init(loop, timer_);
  timer_->data = this;
  uv_timer_start(timer_, &TlsRenewal::on_timer, kDayMs, kDayMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));  // never keeps a stopping loop alive
}

TlsRenewal::~TlsRenewal() {
  *alive_ = false;
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void TlsRenewal::on_timer(uv_timer_t* timer) noexcept {
  if (auto* self = static_cast<TlsRenewal*>(timer->data)) self->check_now();
}

void TlsRenewal::check_now() {
  if (running_) return;
  const core::TimePoint now = clock_.now();
  auto current = config_.credentials();
  const tls::Renewal reason = tls::renewal_needed(*current, identity_, now, /*check_names=*/false);
  if (reason == tls::Renewal::none || now < current->not_before()) return;
  if (!random_) {
    auto random = tls::Random::create("postern-credentials-renewal");
    if (!random) {
      POSTERN_LOG_WARN("app event=tls-renewal-failed reason=random");
      return;
    }
    random_ = std::move(*random);
  }
  running_ = true;
  auto outcome = std::make_shared<core::Result<std::shared_ptr<tls::Credentials>>>(
      core::make_error(core::Errc::io, "tls renewal not run"));
  executor_.submit(
      [outcome, dir = data_dir_, identity = identity_, now, random = random_] {
        // The files decide, not the pair in memory: the owner may have installed one since
        // (from the page), which is then served as it is and never overwritten.
        auto on_disk = tls::Credentials::load(dir);
        if (on_disk && tls::renewal_needed(**on_disk, identity, now, false) == tls::Renewal::none) {
          *outcome = std::move(on_disk);
          return;
        }
        *outcome = tls::Credentials::renew(dir, identity, now, *random);
      },
      [this, outcome, reason, alive = alive_] {
        if (!*alive) return;
        running_ = false;
        if (!*outcome) {
          POSTERN_LOG_WARN("app event=tls-renewal-failed reason=%s where=%s",
                           core::to_string(outcome->error().code), outcome->error().where);
          return;
        }
        if (!(**outcome)->created()) {  // the owner's pair from disk: serve it from now on
          if (auto r = config_.replace_credentials(**outcome); !r) {
            POSTERN_LOG_WARN("app event=tls-reload-failed reason=%s where=%s",
                             core::to_string(r.error().code), r.error().where);
          } else {
            POSTERN_LOG_INFO("app event=tls-certificate-reloaded self_signed=%d",
                             (**outcome)->self_made() ? 1 : 0);
          }
          return;
        }
        if (auto r = config_.replace_credentials(**outcome); !r) {
          POSTERN_LOG_WARN("app event=tls-renewal-failed reason=%s where=%s",
                           core::to_string(r.error().code), r.error().where);
          return;
        }
        POSTERN_LOG_INFO("app event=tls-certificate-renewed reason=%s days=%lld",
                         tls::to_string(reason),
                         static_cast<long long>(std::chrono::duration_cast<std::chrono::hours>(
                                                    (**outcome)->not_after() - clock_.now())
                                                    .count() /
                                                24));
      });
}

}  // namespace postern::app
