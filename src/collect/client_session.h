// collect::ClientSession: the POP3 *client* side of one collection run (RFC 1939,
// RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH PLAIN), sans-I/O.
//
// Typical call sequence (collect::Run drives it the way net drives a server):
//   ClientSession s(host, account, tls_active);   // pop3s: TLS is already up
//   bytes arrive:  n = s.feed(bytes); keep the rest;  (host.send(...) queued commands)
//   host.start_tls() after STLS's +OK; the glue runs the handshake: s.on_tls_ready()
//   host.plan(listing)            -> which messages to fetch and which to delete
//   host.message_begin/data/end   -> one delivery per fetched message;
//   s.on_delivered(result)        <- its local commit (in order of message_end)
//   host.finished(outcome)        after QUIT's reply, or at the first failure
//   link lost: s.on_connection_lost() -> finished(network): nothing is deleted.
// Deletion (RFC 1939 §6): DELE is sent only for messages already committed
// locally, and the server removes them only when QUIT is answered; a session
// that ends any other way leaves every message on the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/body_reader.h"
#include "collect/failure.h"
#include "core/result.h"

namespace postern::collect {

enum class TlsMode { pop3s, stls, plain };

struct Login {
  std::string user;
  std::string password;
  TlsMode tls = TlsMode::pop3s;
};

// One message on the server, as listed in this session.
struct Entry {
  std::size_t number = 0;  // the session's message number (changes between sessions)
  std::uint64_t size = 0;  // LIST's octet count (RFC 1939 §5: may differ from the exact size)
  std::string uid;         // UIDL, or "hdr:" + the host's digest of the headers
};

struct Listing {
  std::vector<Entry> entries;
  bool uid_from_headers = false;  // the server has no UIDL: digests stand in
};

struct Plan {
  std::vector<std::size_t> fetch;   // indices into Listing::entries, in order
  std::vector<std::size_t> remove;  // indices: already durable locally, DELE them now
  bool remove_after_fetch = false;  // DELE each fetched message once committed
};

struct Outcome {
  Failure failure = Failure::none;
  std::string detail;       // printable server text or other detail
  std::size_t listed = 0;   // messages on the server
  std::size_t fetched = 0;  // messages committed locally
  std::uint64_t bytes = 0;  // their sizes
  std::size_t deleted = 0;  // DELEs confirmed by QUIT's +OK (RFC 1939 §6)
  bool uid_from_headers = false;
  bool ok() const { return failure == Failure::none; }
};

// Synchronous calls; none re-enters the session.
struct ClientHost {
  virtual ~ClientHost() = default;
  virtual void send(std::string_view bytes) = 0;  // whole command lines with CRLF
  virtual void start_tls() = 0;                   // then on_tls_ready()
  // A stable id for a message whose server has no UIDL: a digest of `headers`
  // (the header block without fields servers rewrite, e.g. Status).
  virtual std::string header_digest(std::string_view headers) = 0;
  virtual Plan plan(const Listing& listing) = 0;
  virtual void message_begin(const Entry& entry) = 0;
  virtual void message_data(std::string_view bytes) = 0;  // un-stuffed, in order
  // The whole message has arrived: deliver it; answer with on_delivered().
  virtual void message_end() = 0;
  // Last call. The host closes the connection after it.
  virtual void finished(const Outcome& outcome) = 0;
};

struct ClientLimits {
  std::size_t max_line_bytes = 4096;  // a status or listing line (RFC 2449 §4: 512 + slack)
  std::size_t max_header_bytes = 256 * 1024;  // TOP n 0 for the UIDL fallback
  std::size_t max_pending_deliveries = 8;     // messages fetched, not yet committed
};

class ClientSession {
 public:
  // Borrows `host`, which must outlive the session. `tls_active`: the link is
  // already TLS (POP3S). Loop thread only.
  ClientSession(ClientHost& host, Login login, bool tls_active, ClientLimits limits = {});

  // Consumes what it can (whole reply lines; message bodies in any split) and
  // returns the bytes used; the caller offers the rest again with more.
  std::size_t feed(std::string_view bytes);
  // False while the session waits for commits (no reply is due) or is over.
  bool wants_input() const;
  bool done() const { return state_ == State::done; }

  void on_tls_ready();
  // The commit of the oldest message_end() not yet answered.
  void on_delivered(core::Result<void> outcome);
  // The link ended (EOF, reset, timeout) before QUIT's reply.
  void on_connection_lost(Failure why = Failure::network, std::string detail = {});

  const Outcome& outcome() const { return outcome_; }

 private:
  enum class State {
    greeting,
    capa,
    stls,
    auth_plain,
    user,
    pass,
    stat,
    list,
    uidl,
    top_status,
    top_body,
    retr_status,
    retr_body,
    waiting,
    dele,
    quit,
    done
  };
  struct Reply {
    bool ok = false;
    std::string text;  // after "+OK " / "-ERR "
  };

  void enter(State next);
  void command(std::string line);
  void fail(Failure failure, std::string detail);
  void on_status(const Reply& reply);
  bool on_list_line(std::string_view line);  // multi-line listing; false at the end
  void after_capa();
  void authenticate();
  void start_listing();
  void next_top();
  void start_transfers();
  void next_step();  // after a delivery or a DELE: the next RETR, DELE or QUIT
  static std::string filter_headers(std::string_view headers);

  ClientHost& host_;
  Login login_;
  ClientLimits limits_;
  bool tls_active_;
  State state_ = State::greeting;
  bool in_multiline_ = false;  // reading the lines of CAPA, LIST or UIDL
  bool tls_pending_ = false;   // STLS accepted, handshake under way
  bool quit_sent_ = false;
  std::vector<std::string> capabilities_;
  bool capa_failed_ = false;
  std::size_t stat_count_ = 0;
  Listing listing_;
  std::size_t top_index_ = 0;
  std::size_t fetching_ = 0;  // entry index of the RETR under way
  std::string headers_;
  Plan plan_;
  std::size_t next_fetch_ = 0;          // into plan_.fetch
  std::vector<std::size_t> in_commit_;  // entry indices awaiting on_delivered
  std::vector<std::size_t> to_delete_;  // committed or durable, DELE not yet sent
  std::size_t dele_accepted_ = 0;       // +OK to DELE; removed only at QUIT
  bool stop_fetching_ = false;          // a delivery failed: fetch no more
  BodyReader body_;
  std::string chunk_;
  Outcome outcome_;
};

}  // namespace postern::collect
