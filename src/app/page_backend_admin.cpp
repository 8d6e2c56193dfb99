// What the owner changes from the status page: the admin password and the
// session token, the catalogue and settings (through the admin layer, as on
// the command line), the certificate, and the restart.
#include "app/page_backend.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "app/config.h"
#include "core/entropy.h"
#include "store/catalogue.h"
#include "store/password.h"
#include "tls/credentials.h"

namespace postern::app {
namespace {

constexpr const char* kAdminHashKey = "admin_password_hash";

AnswerFn page_done(http::Done done) {
  return [done = std::move(done)](Answer answer) {
    if (answer.ok) return done({});
    done(page_sentence(std::move(answer.sentence)));
  };
}

}  // namespace

void PageRunner::write(Job job, std::function<void(core::Result<void>)> done) {
  context_.writer.submit<void>(
      std::move(job), [on_fatal = context_.on_fatal, done = std::move(done)](core::Result<void> r) {
        if (!r && r.error().code == core::Errc::fatal && on_fatal) on_fatal(r.error());
        done(std::move(r));
      });
}

void PageRunner::hash(std::string password, unsigned iterations,
                      std::function<void(std::string)> done) {
  auto hash = std::make_shared<std::string>();
  context_.executor.submit([hash, password = std::move(password),
                            iterations] { *hash = store::hash_password(password, iterations); },
                           [hash, done = std::move(done)] { done(std::move(*hash)); });
}

std::int64_t PageRunner::now() {
  return core::unix_seconds(context_.clock.now());
}

bool PageBackend::admin_password_set() {
  return !admin_hash().empty();
}

std::string PageBackend::random_token() {
  unsigned char bytes[16];
  // getrandom(2) fails only on a kernel older than 3.17; a token we cannot make
  // guards nothing, so stop here (as store/password does for a salt).
  if (!core::fill_random(bytes, sizeof bytes, "getrandom")) std::abort();
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

void PageBackend::verify_admin_password(std::string password, std::function<void(bool)> done) {
  auto ok = std::make_shared<bool>(false);
  context_.executor.submit(
      [ok, password = std::move(password), hash = admin_hash()] {
        *ok = !hash.empty() && store::verify_password(password, hash);
      },
      [ok, done = std::move(done)] { done(*ok); });
}

void PageBackend::set_admin_password(std::string password, http::Done done) {
  runner_.hash(std::move(password), settings_.pbkdf2_iterations, [this, done](std::string hash) {
    runner_.write(
        [hash](store::WriteTxn& txn) { return store::set_setting(txn, kAdminHashKey, hash); },
        [done](core::Result<void> r) {
          if (r) return done({});
          done(page_problem(r.error()));
        });
  });
}

// The catalogue and the settings go through the admin layer, as on the command line.
void PageBackend::add_domain(std::string name, std::string rule, http::Done done) {
  admin_.add_domain(name, rule, page_done(std::move(done)));
}
void PageBackend::remove_domain(std::string name, http::Done done) {
  admin_.del_domain(name, page_done(std::move(done)));
}
void PageBackend::set_domain_dedup(std::string name, std::string rule, http::Done done) {
  admin_.set_domain_rule(name, rule, page_done(std::move(done)));
}
void PageBackend::add_user(std::string address, std::string password, http::Done done) {
  admin_.add_user(address, std::move(password), 0, page_done(std::move(done)));
}
void PageBackend::remove_user(std::string address, http::Done done) {
  admin_.del_user(address, page_done(std::move(done)));
}
void PageBackend::set_user_password(std::string address, std::string password, http::Done done) {
  admin_.set_password(address, std::move(password), page_done(std::move(done)));
}

void PageBackend::change_settings(std::vector<std::pair<std::string, std::string>> changes,
                                  http::Done done) {
  admin_.change_settings(std::move(changes), [this, done](SettingsAnswer answer) {
    if (!answer.ok) return done(page_sentence(std::move(answer.sentence)));
    settings_ = std::move(answer.next);
    settings_changed();
    done({});
  });
}

void PageBackend::install_certificate(std::string cert, std::string key, http::Done done) {
  auto outcome = std::make_shared<std::optional<core::Result<void>>>();
  context_.executor.submit(
      [outcome, dir = settings_.data_dir, cert = std::move(cert), key = std::move(key)] {
        outcome->emplace(tls::Credentials::install(dir, cert, key));
      },
      [this, outcome, done = std::move(done)] {
        if (**outcome) {
          certificate_installed_ = true;  // served from the next start
          return done({});
        }
        if ((*outcome)->error().code == core::Errc::invalid)
          return done(
              http::Problem("The certificate and key do not parse or do not belong together."));
        done("The certificate could not be saved: " + explain((*outcome)->error()));
      });
}

// Restart-only keys whose saved value differs from the one bound at start.
std::vector<http::PendingRestart> PageBackend::pending_restart() {
  std::vector<http::PendingRestart> out;
  for (auto& pending : settings_waiting_for_restart(started_settings_, settings_))
    out.push_back({std::move(pending.key), std::move(pending.running), std::move(pending.saved)});
  if (certificate_installed_)
    out.push_back({"certificate", "the one loaded at start", "installed from the page"});
  return out;
}
void PageBackend::restart() {
  if (context_.restart) context_.restart();
}

std::string PageBackend::admin_hash() {
  auto txn = context_.env.begin_read();
  if (!txn) return {};
  auto hash = store::get_setting(*txn, kAdminHashKey);
  return hash ? *hash : std::string();
}

void PageBackend::settings_changed() {
  if (hooks_.on_settings_changed) return hooks_.on_settings_changed();
  // serve()'s SIGHUP handler re-reads the saved settings and reconfigures
  // every service; a signal to ourselves reaches it through the loop.
  ::kill(::getpid(), SIGHUP);
}

}  // namespace postern::app
