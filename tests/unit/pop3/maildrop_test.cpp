// MaildropView: message numbers, deletion marks and RSET (RFC 1939 §5).
#include "pop3/maildrop.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace postern::pop3 {

TEST_CASE("MaildropView numbers from 1, hides deleted messages, keeps retrieved marks on RSET") {
  Maildrop drop;
  drop.messages = {{10, 5, UniqueId("a")}, {11, 7, UniqueId("b")}, {12, 9, UniqueId("c")}};
  MaildropView view(drop);
  CHECK(view.find(0) == MaildropView::Lookup::no_such_message);
  CHECK(view.find(4) == MaildropView::Lookup::no_such_message);
  CHECK(view.find(3) == MaildropView::Lookup::ok);
  view.mark_deleted(2);
  view.mark_retrieved(1);
  view.mark_retrieved(1);
  CHECK(view.find(2) == MaildropView::Lookup::deleted);
  CHECK(view.stats().count == 2);
  CHECK(view.stats().octets == 14);
  CHECK(view.deleted_keys() == std::vector<std::uint64_t>{11});
  CHECK(view.retrieved_count() == 1);
  view.reset_deleted();
  CHECK(view.deleted_count() == 0);
  CHECK(view.stats().octets == 21);
  CHECK(view.retrieved_keys() == std::vector<std::uint64_t>{10});
  view.mark_deleted(1);
  view.mark_deleted(3);
  CHECK(view.stats().count == 1);
  CHECK(view.stats().octets == 7);
  CHECK(view.deleted_keys() == std::vector<std::uint64_t>{10, 12});
}

TEST_CASE("a UniqueId holds up to 16 octets inline and gives them back exactly") {
  CHECK(UniqueId().view().empty());
  CHECK(UniqueId("u1").view() == "u1");
  CHECK(UniqueId("0123456789abcdef").view() == "0123456789abcdef");
  CHECK(UniqueId("x") == UniqueId("x"));
  CHECK_FALSE(UniqueId("x") == UniqueId("xy"));
  static_assert(sizeof(MessageEntry) == 32, "a snapshot entry stays compact (issue 16 §3)");
}

}  // namespace postern::pop3
