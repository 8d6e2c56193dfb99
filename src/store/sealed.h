// Secrets sealed at rest with AES-256-GCM (the collect passwords): the key is a
// separate file in the data folder, mode 0600, so a copied data.mdb or a backup
// of it alone does not reveal them. Root on the box can read the key: this is
// not protection against that (README "Collecting external mailboxes").
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/result.h"

namespace postern::store {

using SealKey = std::array<unsigned char, 32>;

inline constexpr const char* kSealKeyFile = "collect.key";

// Reads <data_dir>/collect.key, creating it (32 random bytes, 0600, O_EXCL)
// when absent. A key file of another size or looser mode is refused
// (Errc::corrupt "seal-key-size", Errc::denied "seal-key-mode").
core::Result<SealKey> load_or_create_seal_key(const std::string& data_dir);

// Version byte 1, 12-byte random nonce, ciphertext, 16-byte tag.
core::Result<std::string> seal(const SealKey& key, std::string_view plaintext);
// Errc::denied "unseal" when the tag does not verify (wrong key or tampered).
core::Result<std::string> unseal(const SealKey& key, std::string_view sealed);

}  // namespace postern::store
