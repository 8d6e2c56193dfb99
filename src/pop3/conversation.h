// pop3::Conversation: one POP3 connection, wiring net::Connection to a Session (as its Host)
// and the Session's maildrop to the store (MaildropStore).
//
// Typical life: Server::accept creates it (the greeting is queued, or held until the TLS
// handshake on POP3S); on_input feeds the session; PASS goes to the thread pool (PBKDF2)
// and back through a throttle-delay timer; the maildrop is locked and snapshotted on the
// pool too; RETR and listings stream while the write queue has room and
// resumes on_drain; QUIT commits through the Writer; on_closed ends it.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/executor.h"
#include "core/throttle.h"
#include "net/connection.h"
#include "net/session_handler.h"
#include "net/timer.h"
#include "pop3/locks.h"
#include "pop3/maildrop_store.h"
#include "pop3/session.h"
#include "store/credential_cache.h"
#include "store/env.h"
#include "store/writer.h"
#include "tls/server_config.h"

namespace postern::pop3 {

// State every conversation of one Server shares. Held by shared_ptr, so a conversation
// closing after its Server was destroyed can still release its lock.
struct SharedState {
  LockTable locks;  // process-wide, keyed by mailbox id
  core::Throttle throttle;
  std::string dummy_hash;  // verified for unknown users: the same PBKDF2 cost as a real one
  explicit SharedState(core::ThrottlePolicy policy, std::string dummy)
      : throttle(policy), dummy_hash(std::move(dummy)) {}
};

// What a conversation borrows. env, writer, executor, clock and tls must outlive every
// conversation (the app tears them down after the loop has closed every connection).
struct ConversationContext {
  uv_loop_t* loop = nullptr;
  store::Env* env = nullptr;
  store::Writer* writer = nullptr;
  core::Executor* executor = nullptr;  // the pool: PBKDF2 and snapshots, never on the loop
  const core::Clock* clock = nullptr;
  const tls::ServerConfig* tls = nullptr;  // null: STLS unavailable
  std::shared_ptr<SharedState> shared;
  store::CredentialCache* credentials = nullptr;     // null: every login pays PBKDF2
  std::function<void(const core::Error&)> on_fatal;  // the Writer latched a fatal error
  std::function<void(const std::string& peer)> on_broken_session;  // ended without QUIT
};

// Owns itself: deleted once net has called on_closed() AND every completion it is owed
// (a PBKDF2 check or a snapshot on the pool, an UPDATE in the Writer) has come back, because the
// Session must stay alive to report an UPDATE that outlived its connection. Loop thread only.
class Conversation final : public net::SessionHandler<Session>, private Host {
 public:
  Conversation(net::Connection& conn, ConversationContext context,
               std::shared_ptr<const Limits> limits, Peer peer);
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // net::ConnectionHandler (on_input, on_tls_ready, on_eof, on_timeout: SessionHandler)
  void on_drain(net::Connection& conn) override;
  void on_closed(net::Connection& conn) override;
  bool idle_evictable(const net::Connection& conn) const override;
  void on_evict(net::Connection& conn) override;

 private:
  // Host
  void send(std::string bytes) override;
  void check_password(std::string_view user, std::string_view password) override;
  void open_maildrop(std::string_view user) override;
  core::Result<std::string> read_message_chunk(const MessageEntry& message,
                                               std::size_t chunk_index) override;
  bool can_send_more() const override;
  void update(const std::vector<std::uint64_t>& deleted_keys,
              const std::vector<std::uint64_t>& retrieved_keys) override;
  void session_ended(const SessionSummary& summary) override;
  void start_tls() override;
  void close() override;

  // net::SessionHandler
  Session& session() override { return session_; }
  void pump() override;

  void on_verified(core::Result<bool> outcome, const std::string& user_key, bool defer = false);
  void answer_password();
  void record_abnormal_end(const SessionSummary& summary);
  void count_retrieved(std::size_t retrieved);
  // Deletes *this when closed and owed nothing. The caller must return right after.
  bool delete_if_done();

  ConversationContext context_;
  std::shared_ptr<const Limits> limits_;  // the Limits this session started with
  std::string session_id_;
  std::string peer_address_;
  MaildropStore maildrop_;
  std::optional<net::Timer> delay_timer_;          // the throttle's delay; made on first use
  std::optional<core::Result<bool>> held_answer_;  // a password answer serving its delay
  int owed_ = 0;                                   // completions not yet back
  Session session_;  // last: its constructor sends the greeting through *this
};

}  // namespace postern::pop3
