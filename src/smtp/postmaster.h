// Where mail for postmaster@<one of our domains> goes (RFC 5321 §4.5.1: every SMTP server
// that delivers mail MUST accept "postmaster", a case-insensitive local name, at each of its
// domains and bare as <Postmaster>). An owner who never made a postmaster mailbox or alias
// still gets the mail: it goes to the domain's oldest mailbox, else the appliance's oldest.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "store/env.h"

namespace postern::smtp {

// True for "postmaster" in any letter case (the local part only).
bool is_postmaster(std::string_view local_part);

// The address whose mailbox receives postmaster@`domain` (a normalised local domain), in this
// order: an alias or a mailbox named postmaster@domain, the domain's oldest mailbox (lowest
// mailbox id), the oldest mailbox of any domain. not_found when there is no mailbox at all.
core::Result<std::string> postmaster_target(store::Txn& txn, std::string_view domain);

}  // namespace postern::smtp
