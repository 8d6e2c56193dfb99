// One HTTP connection: parse, hand to the Api, send the response, repeat.
#include "http/exchange.h"

#include "core/log.h"

namespace postern::http {

Exchange::Exchange(net::Connection& conn, Api& api, const core::Clock& clock,
                   const ExchangeOptions& options, std::shared_ptr<ExchangeRegistry> registry,
                   RequestContext context)
    : conn_(&conn),
      api_(api),
      clock_(clock),
      options_(options),
      registry_(std::move(registry)),
      context_(std::move(context)),
      parser_(options.parser) {
  registry_->live.insert(this);
  conn.set_timeout(options_.idle_timeout);
}

void Exchange::on_input(net::Connection& conn) {
  if (waiting_ || draining_ || conn_ == nullptr) return;
  while (!conn.input().empty()) {
    std::size_t n = parser_.feed(conn.input());
    conn.consume(n);
    if (parser_.started() && !deadline_) deadline_ = clock_.now() + options_.request_timeout;
    if (parser_.state() == RequestParser::State::failed) {
      fail(parser_.error_status(), parser_.error_reason());
      return;
    }
    if (parser_.state() != RequestParser::State::complete) return;  // all consumed; wait

    deadline_.reset();
    Request request = parser_.take();
    const bool keep_alive = request.keep_alive;
    const bool head_only = request.method == "HEAD";
    waiting_ = true;
    conn.pause_reading();
    api_.handle(request, context_,
                [this, alive = std::weak_ptr<bool>(alive_), keep_alive, head_only](Response r) {
                  if (alive.expired()) return;  // the connection closed meanwhile
                  finish(r, keep_alive, head_only);
                });
    return;  // the rest is offered again after resume_reading()
  }
}

void Exchange::finish(const Response& response, bool keep_alive, bool head_only) {
  waiting_ = false;
  if (conn_ == nullptr) return;
  const bool keep = keep_alive && !peer_done_;
  conn_->send(serialize(response, core::unix_seconds(clock_.now()), keep, head_only));
  if (response.stream && !head_only) {
    waiting_ = true;  // the next request waits for the last piece (RFC 9112 §9.3.2)
    stream_ = response.stream;
    stream_index_ = 0;
    stream_sent_ = stream_sent_at_timeout_ = 0;
    stream_keep_ = keep;
    pump_stream();
    return;
  }
  end_response(keep);
}

void Exchange::end_response(bool keep) {
  if (!keep) {
    conn_->close_after_flush();
    return;
  }
  // A client that pipelines without reading gets no more until it reads.
  if (!conn_->can_send_more()) {
    draining_ = true;
    return;
  }
  conn_->resume_reading();
}

void Exchange::pump_stream() {
  while (conn_ != nullptr && stream_ && conn_->can_send_more()) {
    std::optional<std::string> piece = stream_->next(stream_index_++);
    if (!piece || stream_sent_ + piece->size() > stream_->length) {
      // Content-Length is already out: closing short is the only honest signal.
      POSTERN_LOG_WARN("http %s event=stream-failed sent=%llu length=%llu peer=%s",
                       conn_->id().c_str(), static_cast<unsigned long long>(stream_sent_),
                       static_cast<unsigned long long>(stream_->length), context_.peer.c_str());
      stream_.reset();
      conn_->close_after_flush();
      return;
    }
    if (piece->empty()) {
      const bool complete = stream_sent_ == stream_->length;
      stream_.reset();
      waiting_ = false;
      end_response(stream_keep_ && complete && !peer_done_);
      return;
    }
    stream_sent_ += piece->size();
    conn_->send(*piece);
  }
  if (stream_) draining_ = true;  // on_drain continues
}

void Exchange::fail(int status, const char* reason) {
  POSTERN_LOG_INFO("http %s event=bad-request status=%d reason=%s peer=%s", conn_->id().c_str(),
                   status, reason, context_.peer.c_str());
  Response r;
  r.status = status;
  r.set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::string(reason_phrase(status)) + "\n";
  conn_->send(serialize(r, core::unix_seconds(clock_.now()), /*keep_alive=*/false, false));
  conn_->close_after_flush();
  deadline_.reset();
}

void Exchange::on_drain(net::Connection& conn) {
  if (!draining_) return;
  draining_ = false;
  if (stream_) return pump_stream();
  conn.resume_reading();
}

void Exchange::on_eof(net::Connection& conn) {
  if (waiting_) {
    peer_done_ = true;  // answer first, then close (the peer may still read)
    return;
  }
  conn.close_after_flush();
}

bool Exchange::idle_evictable(const net::Connection& conn) const {
  return !waiting_ && !stream_ && !parser_.started() && conn.input().empty();
}

void Exchange::on_timeout(net::Connection& conn) {
  if (stream_) {
    // The client sends nothing while it downloads; only a download that stopped moving ends.
    if (stream_sent_ == stream_sent_at_timeout_) conn.abort();
    stream_sent_at_timeout_ = stream_sent_;
    return;
  }
  if (waiting_) return;  // the backend is working; the answer will come
  if (parser_.started()) {
    fail(408, "idle-timeout");
    return;
  }
  conn.close_after_flush();  // an idle keep-alive connection
}

void Exchange::check_deadline(core::TimePoint now) {
  if (conn_ == nullptr || waiting_ || !deadline_ || now < *deadline_) return;
  fail(408, "request-timeout");
}

void Exchange::on_closed(net::Connection&) {
  conn_ = nullptr;
  registry_->live.erase(this);
  delete this;
}

}  // namespace postern::http
