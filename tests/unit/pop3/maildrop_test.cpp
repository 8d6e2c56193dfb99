// MaildropView: message numbers, deletion marks and RSET (RFC 1939 §5).
#include "pop3/maildrop.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace postern::pop3 {

TEST_CASE("MaildropView numbers from 1, hides deleted messages, keeps retrieved marks on RSET") {
  Maildrop drop;
  drop.messages = {{5, "a", 10}, {7, "b", 11}, {9, "c", 12}};
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
}

}  // namespace postern::pop3
