// Counters for one day in meta: {day start, count}, BE64 each.
#include "store/daily_counts.h"

#include "core/bytes.h"
#include "store/records.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

}  // namespace

Result<void> add_daily_count(WriteTxn& txn, const char* key, std::int64_t day_start,
                             std::uint64_t n) {
  auto count = daily_count(txn, key, day_start);
  if (!count) return count.error();
  std::string value = encode_u64(static_cast<std::uint64_t>(day_start));
  value += encode_u64(*count + n);
  return txn.put(Db::meta, key, value);
}

Result<std::uint64_t> daily_count(Txn& txn, const char* key, std::int64_t day_start) {
  auto v = txn.get(Db::meta, key);
  if (!v) return v.error().code == Errc::not_found ? Result<std::uint64_t>(0) : v.error();
  if (v->size() != 16) return err(Errc::corrupt, "daily-count");
  if (static_cast<std::int64_t>(core::get_be64(*v)) != day_start) return std::uint64_t{0};
  return core::get_be64(*v, 8);
}

}  // namespace postern::store
