// Address library: canonical domains (IDNA2008), local parts (NFC, lowercase), messages.
#include "address/address.h"

#include <doctest/doctest.h>

#include <string>

using namespace postern::address;

namespace {

std::string domain(std::string_view in) {
  auto r = canonical_domain(in);
  return r ? *r : "ERROR: " + explain(r.error());
}

std::string key(std::string_view in) {
  auto r = parse_mailbox(in);
  return r ? r->key() : "ERROR: " + explain(r.error());
}

Error domain_error(std::string_view in) {
  auto r = canonical_domain(in);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

Error address_error(std::string_view in) {
  auto r = parse_mailbox(in);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("a U-label and its A-label give the same canonical domain") {
  CHECK(domain("bücher.example") == "xn--bcher-kva.example");
  CHECK(domain("xn--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(domain("XN--BCHER-KVA.Example") == "xn--bcher-kva.example");
  CHECK(domain("BÜCHER.EXAMPLE") == "xn--bcher-kva.example");
  // NFD input (u + combining diaeresis) is composed first (IDN2_NFC_INPUT).
  CHECK(domain("bu\xcc\x88"
               "cher.example") == "xn--bcher-kva.example");
  // IDNA2008 non-transitional: ß is kept, not mapped to "ss" as IDNA2003 did.
  CHECK(domain("faß.de") == "xn--fa-hia.de");
  CHECK(domain("ドメイン.テスト") == "xn--eckwd4c7c.xn--zckzah");
}

TEST_CASE("an xn-- label must be the A-label of a valid U-label (RFC 5891 §5.4)") {
  // Fuzz finding (tests/fuzz/address): libidn2 decodes these but they are not A-labels.
  // "xn--4nk" is U+323F PARENTHESIZED IDEOGRAPH ALLIANCE, DISALLOWED in IDNA2008; its
  // display form "㈿" was then refused, so a key shown to the owner could not be typed back.
  for (const char* bad : {"xn--4nk", "xn--4nk.example", "G@XN--EHe--EHe-Kpe",
                          // "ehe--ehe" + U+02DB OGONEK (DISALLOWED, UTS #46 maps it away)
                          "xn--ehe--ehe-kpe.example",
                          // u + U+0308: decodes to a U-label that is not in NFC
                          "xn--u-ccb.example",
                          // SOFT HYPHEN, mapped away by UTS #46, leaves "xn--4nke"
                          "xn\xc2\xad--4nke.zrg"}) {
    CAPTURE(bad);
    auto r = std::string_view(bad).find('@') == std::string_view::npos
                 ? canonical_domain(bad).has_value()
                 : parse_mailbox(bad).has_value();
    CHECK_FALSE(r);
  }
  Error e = domain_error("xn--4nk.example");
  CHECK(e.reason == Reason::idna);
  CHECK(e.label == "xn--4nk");
  CHECK(explain(e).rfind("'xn--4nk.example' is not a valid domain name: the label 'xn--4nk' is not "
                         "valid under IDNA2008 (",
                         0) == 0);
  // A valid A-label in any letter case still canonicalises, and its display form with it.
  CHECK(domain("xn--Bcher-KVA.example") == "xn--bcher-kva.example");
  CHECK(domain("xn--fa-hia.de") == "xn--fa-hia.de");
  CHECK(domain("xn\xc2\xad--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(domain(display_domain("xn--eckwd4c7c.xn--zckzah")) == "xn--eckwd4c7c.xn--zckzah");
}

TEST_CASE("ASCII domains keep the rules and keys postern always had") {
  CHECK(domain("Example.ORG") == "example.org");
  CHECK(domain("mail-1.example.org") == "mail-1.example.org");
  CHECK(domain("1and1.example") == "1and1.example");
  // Reserved-LDH labels that are not "xn--" were accepted before: keys stay reachable.
  CHECK(domain("ab--cd.example") == "ab--cd.example");
  CHECK(domain(std::string(63, 'a') + ".example") == std::string(63, 'a') + ".example");
}

TEST_CASE("the canonical form shows as U-labels") {
  CHECK(display_domain("xn--bcher-kva.example") == "bücher.example");
  CHECK(display_domain("example.org") == "example.org");
  CHECK(display_domain("ab--cd.example") == "ab--cd.example");
  CHECK(display_address("jörg@xn--bcher-kva.example") == "jörg@bücher.example");
  CHECK(display_address("bob@example.org") == "bob@example.org");
  CHECK(display_width("jörg@bücher.example") == 19);
  CHECK(display_width("ドメイン") == 8);
}

TEST_CASE("bad domains name the actual problem") {
  struct Case {
    const char* input;
    Reason reason;
    const char* message;
  };
  const std::string long_label(64, 'a');
  for (const Case& c : {
           Case{"ex ample.org", Reason::space,
                "'ex ample.org' is not a valid domain name: spaces are not allowed"},
           Case{"", Reason::empty, "'' is not a valid domain name: it is empty"},
           Case{"a..b", Reason::empty_label,
                "'a..b' is not a valid domain name: it has an empty label (two dots in a row, "
                "or a dot at the start)"},
           Case{".a", Reason::empty_label, nullptr},
           Case{"example.org.", Reason::trailing_dot,
                "'example.org.' is not a valid domain name: it must not end with a dot"},
           Case{"-x.org", Reason::label_hyphen,
                "'-x.org' is not a valid domain name: the label '-x' starts or ends with a "
                "hyphen"},
           Case{"x-.org", Reason::label_hyphen, nullptr},
           Case{"exa_mple.org", Reason::label_char,
                "'exa_mple.org' is not a valid domain name: the label 'exa_mple' has '_'; only "
                "letters, digits and hyphens are allowed"},
           Case{"[192.0.2.1]", Reason::literal,
                "'[192.0.2.1]' is not a valid domain name: address literals such as [192.0.2.1] "
                "are not accepted; use a domain name"},
           Case{"xn--zz.example", Reason::idna, nullptr}, Case{"☃.net", Reason::idna, nullptr},
           Case{"b\xfcr.example", Reason::not_utf8,
                "'b\\xfcr.example' is not a valid domain name: it has bytes that are not valid "
                "UTF-8 (shown as \\xNN)"},
           Case{"a\tb.org", Reason::space, nullptr}, Case{"a\r\n.org", Reason::control, nullptr},
           Case{"a\xc2\x85.org", Reason::control, nullptr},  // U+0085 NEL
           Case{"a\xe3\x80\x80"
                "b.org",
                Reason::space, nullptr},  // U+3000 ideographic space
       }) {
    CAPTURE(c.input);
    Error e = domain_error(c.input);
    CHECK(e.reason == c.reason);
    CHECK_FALSE(e.whole_address);
    if (c.message != nullptr) CHECK(explain(e) == c.message);
    CHECK(explain(e).find("bob@example.org") == std::string::npos);
  }
  CHECK(
      explain(domain_error("xn--zz.example"))
          .rfind(
              "'xn--zz.example' is not a valid domain name: the label 'xn--zz' is not valid under "
              "IDNA2008 (",
              0) == 0);
}

TEST_CASE("over-long labels and domains are measured in A-label form") {
  const std::string ascii64(64, 'a');
  Error e = domain_error(ascii64 + ".example");
  CHECK(e.reason == Reason::label_too_long);
  CHECK(explain(e) == "'" + ascii64 + ".example' is not a valid domain name: the label '" +
                          ascii64 + "' is longer than 63 octets (64)");
  // 30 × "ü" is 60 octets of UTF-8 but 4 + 30 + 30-odd octets of punycode: still fine.
  std::string u30;
  for (int i = 0; i < 30; ++i) u30 += "ü";
  CHECK(domain(u30 + ".example").rfind("xn--", 0) == 0);
  // 60 × "ü" does not fit 63 octets once encoded.
  CHECK(domain_error(u30 + u30 + ".example").reason == Reason::label_too_long);
  // Four 63-octet labels and three dots make 255: the limit; one more octet is too long.
  const std::string l63(63, 'b');
  const std::string d255 = l63 + "." + l63 + "." + l63 + "." + l63;
  CHECK(domain(d255) == d255);
  Error long_domain = domain_error("c" + d255);
  CHECK(long_domain.reason == Reason::label_too_long);
  Error too_long = domain_error("c." + d255);
  CHECK(too_long.reason == Reason::too_long);
  CHECK(explain(too_long).find("257 octets long") != std::string::npos);
}

TEST_CASE("NFC and NFD local parts are the same mailbox") {
  const char* nfc = "j\xc3\xb6rg@example.org";   // ö as U+00F6
  const char* nfd = "jo\xcc\x88rg@example.org";  // o + U+0308
  CHECK(key(nfc) == "jörg@example.org");
  CHECK(key(nfd) == key(nfc));
  CHECK(key("JÖRG@Example.org") == "jörg@example.org");
  CHECK(key("jörg@bücher.example") == "jörg@xn--bcher-kva.example");
  CHECK(key("JÖRG@xn--bcher-kva.example") == "jörg@xn--bcher-kva.example");
  CHECK(key("用户@例子.广告") == "用户@xn--fsqu00a.xn--4rr70v");
}

TEST_CASE("ASCII local parts compare case-insensitively, as the store always did") {
  CHECK(key("Bob.Smith@Example.ORG") == "bob.smith@example.org");
  CHECK(key("a+tag@x.y") == "a+tag@x.y");
  CHECK(key("!#$%&'*+-/=?^_`{|}~@x.org") == "!#$%&'*+-/=?^_`{|}~@x.org");
  // RFC 5321 §4.1.2: a quoted local part that is also a dot-string is that mailbox.
  CHECK(key("\"Bob\"@example.org") == "bob@example.org");
  CHECK(key("\"b\\ob\"@example.org") == "bob@example.org");
  CHECK(key("a@b@example.org").rfind("ERROR", 0) == 0);
}

TEST_CASE("bad local parts name the actual problem") {
  struct Case {
    const char* input;
    Reason reason;
    Part part;
    const char* message;
  };
  for (const Case& c : {
           Case{"bob", Reason::no_at, Part::local_part,
                "'bob' is not a valid address: it needs a local part, '@' and a domain, like "
                "bob@example.org"},
           Case{"@x.org", Reason::empty, Part::local_part,
                "'@x.org' is not a valid address: the local part before '@' is empty"},
           Case{"bob@", Reason::empty, Part::domain,
                "'bob@' is not a valid address: the domain after '@' is empty"},
           Case{"bo b@x.org", Reason::space, Part::local_part,
                "'bo b@x.org' is not a valid address: in the local part, spaces are not "
                "allowed"},
           Case{"bob@ex ample.org", Reason::space, Part::domain,
                "'bob@ex ample.org' is not a valid address: in the domain, spaces are not "
                "allowed"},
           Case{".bob@x.org", Reason::local_dot, Part::local_part, nullptr},
           Case{"bob.@x.org", Reason::local_dot, Part::local_part, nullptr},
           Case{"a..b@x.org", Reason::local_dot, Part::local_part,
                "'a..b@x.org' is not a valid address: the local part must not start or end "
                "with a dot, nor have two dots in a row"},
           Case{"a(b)@x.org", Reason::local_char, Part::local_part,
                "'a(b)@x.org' is not a valid address: the local part has '(', which is not "
                "allowed outside quotes (RFC 5322 atext, dots, or any non-ASCII letter)"},
           Case{"\"a b\"@x.org", Reason::space, Part::local_part, nullptr},
           Case{"\"ab@x.org", Reason::local_char, Part::local_part, nullptr},
           Case{"j\xf6rg@x.org", Reason::not_utf8, Part::local_part,
                "'j\\xf6rg@x.org' is not a valid address: in the local part, it has bytes that "
                "are not valid UTF-8 (shown as \\xNN)"},
           Case{"bob@x.org\r\n", Reason::control, Part::domain, nullptr},
           Case{"a\x01"
                "b@x.org",
                Reason::control, Part::local_part, nullptr},
           Case{"j\xc2\xa0rg@x.org", Reason::space, Part::local_part, nullptr},  // NBSP
           Case{"bob@exa_mple.org", Reason::label_char, Part::domain, nullptr},
       }) {
    CAPTURE(c.input);
    Error e = address_error(c.input);
    CHECK(e.reason == c.reason);
    CHECK(e.part == c.part);
    CHECK(e.whole_address);
    if (c.message != nullptr) CHECK(explain(e) == c.message);
  }
}

TEST_CASE("the local part is limited to 64 octets after normalisation") {
  CHECK(key(std::string(64, 'a') + "@x.org") == std::string(64, 'a') + "@x.org");
  Error e = address_error(std::string(65, 'a') + "@x.org");
  CHECK(e.reason == Reason::local_too_long);
  CHECK(explain(e).find("the local part is 65 octets long; at most 64 are allowed") !=
        std::string::npos);
  // 32 × "ö" is 64 octets in NFC but 96 in NFD: measured after composing.
  std::string nfd;
  for (int i = 0; i < 32; ++i) nfd += "o\xcc\x88";
  CHECK(key(nfd + "@x.org").size() == 64 + 6);
}

TEST_CASE("where() codes carry the reason into a store error and back") {
  Error e = domain_error("ex ample.org");
  CHECK(std::string(where(e)) == "domain-space");
  CHECK(std::string(reason_for_where(where(e))) == "spaces are not allowed");
  Error l = address_error("a..b@x.org");
  CHECK(std::string(where(l)) == "local-part-dot");
  CHECK(reason_for_where("user") == nullptr);
}
