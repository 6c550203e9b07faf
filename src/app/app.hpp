#pragma once
// Wiring: builds every module from the configuration, mounts their routes, runs the server.
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"

namespace ruche::app {

// `ruche serve`: opens the data folder, migrates, creates the first admin on an empty
// database (printing its credentials once), listens, serves until SIGINT/SIGTERM, then drains.
// Returns the process exit code.
int Serve(const core::Config& config);

// `ruche admin …` commands work on the data folder directly (the server may be running: SQLite
// serialises the writers).
Result<void> AdminCreateUser(const core::Config& config, const std::string& name,
                             const std::string& password, bool is_admin);
Result<void> AdminResetPassword(const core::Config& config, const std::string& name,
                                const std::string& password);
// Creates a registration token (random if `token` is empty) and returns it.
Result<std::string> AdminCreateRegistrationToken(const core::Config& config, std::string token,
                                                 std::optional<int64_t> uses);

}  // namespace ruche::app
