#pragma once
// Calendars feed presence: whether a user is in a busy event now (matrix::PresenceTracker asks
// through MatrixDeps::calendar_busy, so matrix/ does not depend on cal/).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cal/instance_cache.hpp"
#include "store/store.hpp"

namespace ruche::cal {

// (user ID "@alice:server", now in ms) -> the end (ms) of the busy event they are in, if any:
// a VEVENT of any of their calendars, neither TRANSPARENT nor CANCELLED.
std::function<std::optional<int64_t>(const std::string&, int64_t)> CalendarBusyProbe(
    store::Store& store, InstanceCache& instances);

}  // namespace ruche::cal
