#pragma once
// Logging: spdlog (compiled library, external fmt). One logger, to stderr; stdout is kept for
// what a person running `ruche` must read (listening address, first admin credentials).
#include <spdlog/spdlog.h>

#include <string_view>

namespace ruche::core {

// Sets the level ("trace" … "off") and the line format. Unknown level -> false.
bool InitLogging(std::string_view level);

}  // namespace ruche::core

#define RUCHE_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define RUCHE_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define RUCHE_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
#define RUCHE_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
