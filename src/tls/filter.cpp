// mbedTLS over memory buffers: BIO callbacks that never block.
#include "tls/filter.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "tls/error.h"

namespace postern::tls {

Filter::Filter() {
  mbedtls_ssl_init(&ssl_);
}

Filter::~Filter() {
  mbedtls_ssl_free(&ssl_);
}

core::Result<std::unique_ptr<Filter>> Filter::setup(std::unique_ptr<Filter> filter,
                                                    const mbedtls_ssl_config* config) {
  int rc = mbedtls_ssl_setup(&filter->ssl_, config);
  if (rc != 0) return tls_error("ssl_setup", rc);
  mbedtls_ssl_set_bio(&filter->ssl_, filter.get(), &Filter::on_send, &Filter::on_receive, nullptr);
  return filter;
}

core::Result<std::unique_ptr<Filter>> Filter::create(const ServerConfig& config) {
  std::unique_ptr<Filter> filter(new Filter());
  filter->config_ = config.acquire();
  const mbedtls_ssl_config* raw = filter->config_.get();
  return setup(std::move(filter), raw);
}

core::Result<std::unique_ptr<Filter>> Filter::create_client(const ClientConfig& config,
                                                            const std::string& hostname,
                                                            const ClientSession* resume) {
  return create_client(config.get(), hostname, resume);
}

core::Result<std::unique_ptr<Filter>> Filter::create_client(const mbedtls_ssl_config* config,
                                                            const std::string& hostname,
                                                            const ClientSession* resume) {
  auto filter = setup(std::unique_ptr<Filter>(new Filter()), config);
  if (!filter) return filter;
  int rc = mbedtls_ssl_set_hostname(&(*filter)->ssl_, hostname.c_str());
  if (rc != 0) return tls_error("ssl_set_hostname", rc);
  if (resume != nullptr && resume->saved_) {
    rc = mbedtls_ssl_set_session(&(*filter)->ssl_, &resume->session_);
    if (rc != 0) return tls_error("ssl_set_session", rc);
  }
  return filter;
}

core::Result<void> Filter::save_session(ClientSession& out) const {
  if (!handshake_done_)
    return tls_error("save_session before handshake", MBEDTLS_ERR_SSL_BAD_INPUT_DATA);
  mbedtls_ssl_session_free(&out.session_);
  mbedtls_ssl_session_init(&out.session_);
  out.saved_ = false;
  int rc = mbedtls_ssl_get_session(&ssl_, &out.session_);
  if (rc != 0) return tls_error("ssl_get_session", rc);
  out.saved_ = true;
  return {};
}

const char* Filter::ciphersuite() const noexcept {
  const char* name = mbedtls_ssl_get_ciphersuite(&ssl_);
  return name != nullptr ? name : "unknown";
}

// The outgoing buffer grows without bound here; net::Connection caps it by
// refusing to produce more (can_send_more) rather than by a short write.
int Filter::on_send(void* self, const unsigned char* data, std::size_t length) noexcept {
  auto* filter = static_cast<Filter*>(self);
  filter->out_.append(reinterpret_cast<const char*>(data), length);
  return static_cast<int>(length);
}

int Filter::on_receive(void* self, unsigned char* data, std::size_t length) noexcept {
  auto* filter = static_cast<Filter*>(self);
  std::size_t available = filter->in_.size() - filter->in_pos_;
  if (available == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t n = std::min(length, available);
  std::memcpy(data, filter->in_.data() + filter->in_pos_, n);
  filter->in_pos_ += n;
  if (filter->in_pos_ == filter->in_.size()) {
    filter->in_.clear();
    filter->in_pos_ = 0;
  }
  return static_cast<int>(n);
}

void Filter::feed_ciphertext(std::string_view bytes) {
  if (in_pos_ > 0 && in_pos_ >= in_.size() / 2) {  // compact before growing
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(bytes);
}

bool Filter::has_buffered_input() const noexcept {
  return in_.size() > in_pos_ || mbedtls_ssl_get_bytes_avail(&ssl_) > 0;
}

core::Result<bool> Filter::handshake() {
  if (failure_ != 0) return tls_error("tls session failed", failure_);
  if (handshake_done_) return true;
  int rc = mbedtls_ssl_handshake(&ssl_);
  if (rc == 0) {
    handshake_done_ = true;
    return true;
  }
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return false;
  failure_ = rc;
  return tls_error("ssl_handshake", rc);
}

core::Result<std::size_t> Filter::read_plaintext(std::string& out, std::size_t max_bytes) {
  auto done = handshake();
  if (!done) return done.error();
  if (!*done || peer_closed_) return std::size_t{0};
  std::size_t added = 0;
  unsigned char chunk[4096];
  while (added < max_bytes) {
    int rc = mbedtls_ssl_read(&ssl_, chunk, std::min(sizeof chunk, max_bytes - added));
    if (rc > 0) {
      out.append(reinterpret_cast<const char*>(chunk), static_cast<std::size_t>(rc));
      added += static_cast<std::size_t>(rc);
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) break;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      peer_closed_ = true;
      break;
    }
    failure_ = rc;
    return tls_error("ssl_read", rc);
  }
  return added;
}

core::Result<void> Filter::write_plaintext(std::string_view bytes) {
  if (failure_ != 0) return tls_error("tls session failed", failure_);
  if (!handshake_done_) return tls_error("write before handshake", MBEDTLS_ERR_SSL_BAD_INPUT_DATA);
  // on_send never returns WANT_WRITE, so each call consumes a whole record's
  // worth (at most the maximum fragment length); loop over the rest.
  while (!bytes.empty()) {
    int rc = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(bytes.data()),
                               bytes.size());
    if (rc < 0) {
      failure_ = rc;
      return tls_error("ssl_write", rc);
    }
    bytes.remove_prefix(static_cast<std::size_t>(rc));
  }
  return {};
}

core::Result<void> Filter::close_notify() {
  if (failure_ != 0) return tls_error("tls session failed", failure_);
  int rc = mbedtls_ssl_close_notify(&ssl_);
  if (rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_WRITE) return tls_error("ssl_close_notify", rc);
  return {};
}

std::string Filter::take_ciphertext() {
  return std::exchange(out_, std::string());
}

const mbedtls_x509_crt* Filter::peer_certificate() const noexcept {
  return mbedtls_ssl_get_peer_cert(&ssl_);
}

}  // namespace postern::tls
