#include "core/error.hpp"

#include <stdexcept>

namespace ruche::core {

Error Error::BadRequest(std::string msg, std::string code) {
  return {400, std::move(code), std::move(msg), 0};
}
Error Error::NotJson(std::string msg) { return {400, "M_NOT_JSON", std::move(msg), 0}; }
Error Error::MissingToken() { return {401, "M_MISSING_TOKEN", "Missing access token", 0}; }
Error Error::UnknownToken() {
  return {401, "M_UNKNOWN_TOKEN", "Unknown or expired access token", 0};
}
Error Error::Forbidden(std::string msg) { return {403, "M_FORBIDDEN", std::move(msg), 0}; }
Error Error::NotFound(std::string msg) { return {404, "M_NOT_FOUND", std::move(msg), 0}; }
Error Error::Unrecognized(std::string msg) { return {404, "M_UNRECOGNIZED", std::move(msg), 0}; }
Error Error::TooLarge(std::string msg) { return {413, "M_TOO_LARGE", std::move(msg), 0}; }
Error Error::LimitExceeded(int64_t retry_after_ms) {
  return {429, "M_LIMIT_EXCEEDED", "Too many requests", retry_after_ms < 1 ? 1 : retry_after_ms};
}
Error Error::Conflict(std::string msg, std::string code) {
  return {409, std::move(code), std::move(msg), 0};
}
Error Error::Internal(std::string msg) { return {500, "M_UNKNOWN", std::move(msg), 0}; }
Error Error::Unavailable(std::string msg) { return {503, "M_UNKNOWN", std::move(msg), 0}; }

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.errcode + ": " + e.message);
}

}  // namespace ruche::core
