// smtp::Transaction: the state of one mail transaction, from MAIL to the reply
// after the message (OpenSMTPD's struct smtp_tx). Created at MAIL and destroyed
// whole at RSET, EHLO, the end of the message or an abort: never reset field by field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "smtp/data_reader.h"
#include "smtp/host.h"

namespace postern::smtp {

struct Transaction {
  // Where the message body stands towards the Host: each message_begin() is
  // followed by exactly one message_end() or message_abort().
  enum class Body : std::uint8_t { none, open, aborted, ended };

  Envelope envelope;
  std::string message_id;  // "<session_id>.<n>", set at message_begin()
  Body body = Body::none;
  std::optional<DataReader> data;      // while the DATA body is read
  std::uint64_t bdat_octets = 0;       // BDAT octets received so far (RFC 3030)
  std::optional<AbortReason> failure;  // why the message will be refused at its end
  bool failure_counted = false;        // the peer-fault reply was sent once already
};

}  // namespace postern::smtp
