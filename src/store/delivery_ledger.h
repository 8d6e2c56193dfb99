// The dedup ledger's steps inside deliver(): internal to store/ (delivery.cpp).
// The ledger's public functions are in store/ledger.h.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "store/delivery.h"

namespace postern::store {

// Step 1: the kept partial named by `key` goes, whether or not it was downloaded.
Result<void> supersede_partial(WriteTxn& txn, const DeliveryRequest& request,
                               const std::string& address, std::uint64_t mailbox_id,
                               const Fingerprint& key, Delivered& out);

// Step 2: the first row among the recipient's `check` list still inside the window.
Result<std::optional<std::pair<DedupRecord, const char*>>> live_row(Txn& txn,
                                                                    const DeliveryRequest& request,
                                                                    std::uint64_t mailbox_id,
                                                                    const Recipient& rcpt);

// Step 3: the rows a stored copy records (a partial records only its partial key).
Result<void> record_rows(WriteTxn& txn, const DeliveryRequest& request, std::uint64_t mailbox_id,
                         const Recipient& rcpt, std::uint32_t uid);

}  // namespace postern::store
