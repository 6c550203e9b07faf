#include "cal/instance_cache.hpp"

#include "core/clock.hpp"

namespace ruche::cal {
namespace {

constexpr int64_t kDay = 86'400;

TimeRange WindowAroundNow() {
  int64_t now = core::NowMs() / 1000;
  return {now - 400 * kDay, now + 1100 * kDay};
}

}  // namespace

InstanceCache::InstanceCache(size_t max_entries)
    : max_entries_(max_entries), window_(WindowAroundNow()) {}

std::shared_ptr<const CachedSeries> InstanceCache::Get(
    int64_t calendar_id, const StoredObject& object, TimeRange range,
    const std::function<std::optional<std::string>()>& load) {
  if (range.start < window_.start || range.end > window_.end) {
    return nullptr;
  }
  std::string key = std::to_string(calendar_id) + "/" + object.name;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.etag == object.etag) {
      return it->second.series;
    }
  }
  std::optional<std::string> text;
  if (object.data.empty()) {
    text = load();
    if (!text) {
      return nullptr;
    }
  }
  auto parsed = ICalendar::Parse(object.data.empty() ? *text : object.data);
  if (!parsed) {
    return nullptr;
  }
  auto series = std::make_shared<CachedSeries>();
  series->list = parsed->Occurrences(window_);  // InstancesIn sorts by start
  for (const auto& o : series->list) {
    series->longest = std::max(series->longest, o.end - o.start);
  }
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    entries_.clear();
  }
  entries_[key] = Entry{object.etag, series};
  return series;
}

}  // namespace ruche::cal
