// The stored form: LineEnds, the spool and the Maildir import apply it, schema step 2
// brings older bodies into it, so a message's stored size is what POP3 RETR sends.
#include "store/stored_form.h"
#include "store/body_key.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "store/check.h"
#include "store/maildir.h"
#include "store/spool.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::core::InlineExecutor;
using postern::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Runs `in` through LineEnds split at every `step` octets.
std::string normalised(std::string_view in, std::size_t step) {
  LineEnds lines;
  std::string out;
  for (std::size_t at = 0; at < in.size(); at += step) lines.convert(in.substr(at, step), out);
  out += lines.finish();
  return out;
}

std::string spooled(const std::vector<std::string>& pieces) {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  InlineExecutor ex;
  Spool spool(o, ex);
  for (const auto& p : pieces) spool.append(p);
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  const SpooledBody& body = **got;
  std::string bytes = body.in_memory() ? body.memory : std::string();
  if (!body.in_memory()) {
    std::ifstream in(body.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    fs::remove(body.path);
  }
  CHECK(body.size == bytes.size());
  CHECK(body.hash == body_key(bytes));
  return bytes;
}

MessageInfo only_message(Env& env, const char* who) {
  auto list = list_messages(env, mailbox_of(env, who));
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 1);
  return list->front();
}

}  // namespace

TEST_CASE("LineEnds turns bare LFs into CRLF and completes the last line, in any split") {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"a\r\nb\r\n", "a\r\nb\r\n"},
      {"a\r\nno end", "a\r\nno end\r\n"},
      {"ends in CR\r", "ends in CR\r\n"},
      {"unix\nlines\n", "unix\r\nlines\r\n"},
      {"\n\n", "\r\n\r\n"},
      {"mixed\r\nbare\nend", "mixed\r\nbare\r\nend\r\n"},
      {"inner\rCR\r\n", "inner\rCR\r\n"},
      {".", ".\r\n"},
  };
  for (const auto& [in, want] : cases) {
    CAPTURE(in);
    for (std::size_t step : {1u, 2u, 3u, 100u}) {
      CAPTURE(step);
      CHECK(normalised(in, step) == want);
    }
    LineEnds lines;
    std::string out;
    lines.convert(in, out);
    CHECK(lines.changed() == (in != want));
  }
}

TEST_CASE("the spool stores a BDAT body without a final CRLF with one, and bare LFs as CRLF") {
  CHECK(spooled({"Subject: x\r\n\r\n", "no newline"}) == "Subject: x\r\n\r\nno newline\r\n");
  CHECK(spooled({"a\r", "\nb\r"}) == "a\r\nb\r\n");  // a CRLF split across appends stays one
  CHECK(spooled({"bare\n", "\nlf"}) == "bare\r\n\r\nlf\r\n");
  CHECK(spooled({"complete\r\n"}) == "complete\r\n");
  CHECK(spooled({}) == "");
  // Past the in-memory buffer: the completion lands after full buffers were written.
  const std::string big(Spool::kBufferBytes, 'y');
  CHECK(spooled({big}) == big + "\r\n");
  const std::string lf_lines = std::string(Spool::kBufferBytes - 1, 'z') + "\n";
  CHECK(spooled({lf_lines, lf_lines}) == lf_lines.substr(0, lf_lines.size() - 1) + "\r\n" +
                                             lf_lines.substr(0, lf_lines.size() - 1) + "\r\n");
}

TEST_CASE("schema step 2 completes the last line of older bodies, moving hash, size and counters") {
  TempDir dir;
  const Options o = options_for(dir.path());
  const MigrationStep v1[] = {schema_steps()[0]};
  const std::string full_chunk = stored_form_bytes(kChunkBytes - 1) + "x";  // ends "\nx"
  {
    auto env = Env::open(o, v1);
    REQUIRE(env.has_value());
    add_users(**env, {"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"});
    // a: no final CRLF (a BDAT body of an older build), delivered twice into a and b.
    REQUIRE(deliver_now(
        **env, request_to(memory_body("Subject: a\r\n\r\nno end"), {"a@x.org", "b@x.org"})));
    // c: ends in CR; d: exactly one full chunk, so the completion starts a new chunk.
    REQUIRE(deliver_now(**env, request_to(memory_body("Subject: c\r\n\r\nCR\r"), {"c@x.org"})));
    REQUIRE(deliver_now(**env, request_to(memory_body(full_chunk), {"d@x.org"})));
    // e: the same message once complete and once not: one body after the step.
    REQUIRE(deliver_now(**env, request_to(memory_body("Subject: e\r\n\r\nsame\r\n"), {"e@x.org"})));
    REQUIRE(deliver_now(**env, request_to(memory_body("Subject: e\r\n\r\nsame"), {"e@x.org"})));
    // Already complete, and bare-LF lines ending in LF: left alone.
    REQUIRE(deliver_now(**env, request_to(memory_body("unix\nlines\n"), {"a@x.org"})));
  }
  std::uint64_t unique_a = 0;
  {
    auto env = Env::open(o, v1);
    REQUIRE(env.has_value());
    unique_a = list_messages(**env, mailbox_of(**env, "a@x.org"))->front().unique_id;
  }
  auto env = open_store(o);  // every step: 1 -> 2 -> 3 runs here
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(schema_version(*txn) == schema_steps().size());
  }
  auto a = list_messages(*env, mailbox_of(*env, "a@x.org"));
  REQUIRE(a->size() == 2);
  const std::string want_a = "Subject: a\r\n\r\nno end\r\n";
  CHECK((*a)[0].size == want_a.size());
  CHECK((*a)[0].body == sha256(want_a));
  CHECK(read_body(*env, (*a)[0].body, (*a)[0].size) == want_a);
  CHECK((*a)[0].unique_id == unique_a);  // UIDL unchanged
  CHECK(read_body(*env, (*a)[1].body, (*a)[1].size) == "unix\nlines\n");
  CHECK(only_message(*env, "b@x.org").body == sha256(want_a));
  const MessageInfo c = only_message(*env, "c@x.org");
  CHECK(read_body(*env, c.body, c.size) == "Subject: c\r\n\r\nCR\r\n");
  const MessageInfo d = only_message(*env, "d@x.org");
  CHECK(d.size == kChunkBytes + 2);
  CHECK(read_body(*env, d.body, d.size) == full_chunk + "\r\n");
  auto e = list_messages(*env, mailbox_of(*env, "e@x.org"));
  REQUIRE(e->size() == 2);
  CHECK((*e)[0].body == (*e)[1].body);
  {
    auto txn = env->begin_read();
    auto body = find_body(*txn, (*e)[0].body);
    REQUIRE(body.has_value());
    CHECK(body->refcount == 2);
    auto mailbox = find_mailbox(*txn, mailbox_of(*env, "a@x.org"));
    CHECK(mailbox->used_bytes == want_a.size() + 11);
  }
  auto checked = check_consistency(*env, true);
  REQUIRE(checked.has_value());
  CHECK(checked->staged_chunks == 0);
}

TEST_CASE("a Unix Maildir is imported in the stored form; our own export byte for byte") {
  TempDir dir;
  const std::string root = dir.path() + "/maildir";
  fs::create_directories(root + "/carol@z.org/cur");
  const std::string big_lf = [] {
    std::string s = "Subject: big\n\n";
    while (s.size() < 3 * kChunkBytes) s += "a line of a long LF-only message body\n";
    return s;
  }();
  std::ofstream(root + "/carol@z.org/cur/1.M1.host:2,") << "Subject: lf\n\nbody\n";
  std::ofstream(root + "/carol@z.org/cur/2.M2.host:2,") << "Subject: none\r\n\r\nno end";
  std::ofstream(root + "/carol@z.org/cur/3.M3.host:2,") << big_lf;
  std::ofstream(root + "/carol@z.org/cur/4.M4.host:2,") << "Subject: crlf\r\n\r\nok\r\n";
  auto env = open_store(options_for(dir.path()));
  auto r = import_maildir(*env, root);
  REQUIRE(r.has_value());
  CHECK(r->messages == 4);
  auto list = list_messages(*env, mailbox_of(*env, "carol@z.org"));
  REQUIRE(list->size() == 4);
  std::string big_crlf;
  for (char ch : big_lf) big_crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  const std::string want[] = {"Subject: lf\r\n\r\nbody\r\n", "Subject: none\r\n\r\nno end\r\n",
                              big_crlf, "Subject: crlf\r\n\r\nok\r\n"};
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK((*list)[i].size == want[i].size());
    CHECK(read_body(*env, (*list)[i].body, (*list)[i].size) == want[i]);
  }
  CHECK(fs::is_empty(env->spool_dir()));  // the converted copy of the big file is gone
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("LineEnds::view copies nothing for CRLF input and converts the same as convert") {
  LineEnds lines;
  std::string scratch;
  const std::string crlf = "a\r\nb\r\n";
  const std::string_view same = lines.view(crlf, scratch);
  CHECK(same.data() == crlf.data());
  CHECK(same == crlf);
  CHECK_FALSE(lines.changed());
  // A CR at the end of one piece and its LF at the start of the next: no insertion.
  LineEnds split;
  CHECK(split.view("x\r", scratch) == "x\r");
  CHECK(split.view("\ny\nz", scratch) == "\ny\r\nz");
  CHECK(split.finish() == "\r\n");
  const std::string mixed = "\nA\r\n\nB\rC\n\n.\r\n\n";
  std::string whole;
  LineEnds w;
  w.convert(mixed, whole);
  std::string bytewise;
  LineEnds b;
  for (char c : mixed) bytewise += b.view(std::string_view(&c, 1), scratch);
  CHECK(bytewise == whole);
  CHECK(whole == "\r\nA\r\n\r\nB\rC\r\n\r\n.\r\n\r\n");
}
