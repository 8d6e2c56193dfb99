#include "smtp/postmaster.h"

#include "core/ascii.h"
#include "store/catalogue.h"

namespace postern::smtp {
namespace {

// The address of the mailbox with the lowest id among `users` (made first), or empty.
std::string oldest(const std::vector<store::UserSummary>& users) {
  const store::UserSummary* best = nullptr;
  for (const auto& user : users) {
    if (best == nullptr || user.mailbox_id < best->mailbox_id) best = &user;
  }
  return best ? best->address : std::string();
}

}  // namespace

bool is_postmaster(std::string_view local_part) {
  return core::equals_ignore_case(local_part, "postmaster");
}

core::Result<std::string> postmaster_target(store::Txn& txn, std::string_view domain) {
  std::string named = "postmaster@" + std::string(domain);
  if (auto alias = store::find_alias(txn, named); alias) return std::move(*alias);
  if (auto user = store::find_user(txn, named); user) return named;
  for (std::string_view scope : {domain, std::string_view()}) {
    auto users = store::list_users(txn, scope);
    if (!users) return users.error();
    if (auto address = oldest(*users); !address.empty()) return address;
  }
  return core::make_error(core::Errc::not_found, "no-mailbox");
}

}  // namespace postern::smtp
