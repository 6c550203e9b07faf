#pragma once
// Errors are values at module boundaries: every fallible call returns Result<T>, and an Error
// carries what a client needs to see (HTTP status + Matrix errcode + message). Ruche's own REST
// API reuses the Matrix errcodes, so clients handle one vocabulary.
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ruche::core {

struct Error {
  int http_status = 500;
  std::string errcode = "M_UNKNOWN";  // Matrix errcode, e.g. M_FORBIDDEN
  std::string message;
  int64_t retry_after_ms = 0;  // > 0 only for M_LIMIT_EXCEEDED
  // More string members of the error's JSON body, for the errcodes that carry some (e.g.
  // M_WRONG_ROOM_KEYS_VERSION's current_version).
  std::vector<std::pair<std::string, std::string>> extra_fields;

  // Explicit constructors (not an aggregate): otherwise C++20 would let Result<int64_t> treat
  // an integer as a possible Error and refuse the conversion as ambiguous.
  Error() = default;
  Error(int status, std::string code, std::string msg, int64_t retry_after = 0)
      : http_status(status),
        errcode(std::move(code)),
        message(std::move(msg)),
        retry_after_ms(retry_after) {}

  static Error BadRequest(std::string msg, std::string code = "M_BAD_JSON");
  static Error NotJson(std::string msg);
  static Error MissingToken();
  static Error UnknownToken();
  static Error Forbidden(std::string msg);
  static Error NotFound(std::string msg);
  static Error Unrecognized(std::string msg = "Unrecognized request");
  static Error TooLarge(std::string msg);
  static Error LimitExceeded(int64_t retry_after_ms);
  static Error Conflict(std::string msg, std::string code);
  static Error Internal(std::string msg);
  static Error Unavailable(std::string msg);
};

// Boost's result<T, E> asks for this by ADL when value() is called on an error.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline boost::system::result<void, Error> Ok() { return {}; }

}  // namespace ruche::core

namespace ruche {
using core::Error;
using core::Ok;
using core::Result;
}  // namespace ruche

// In functions returning Result<…> (not coroutines: they need co_return), unwrap a Result or
// return its error:  RUCHE_ASSIGN_OR_RETURN(auto body, core::ParseJsonObject(text));
// NOTE: wrap an expression containing a braced list in parentheses: braces do not protect commas
// in macro arguments.
#define RUCHE_CONCAT_INNER(a, b) a##b
#define RUCHE_CONCAT(a, b) RUCHE_CONCAT_INNER(a, b)
#define RUCHE_ASSIGN_OR_RETURN(lhs, expr) \
  RUCHE_ASSIGN_OR_RETURN_IMPL(RUCHE_CONCAT(ruche_result_, __LINE__), lhs, expr)
#define RUCHE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp) return tmp.error();                     \
  lhs = std::move(*tmp)
#define RUCHE_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    if (auto ruche_status = (expr); !ruche_status) { \
      return ruche_status.error();                   \
    }                                                \
  } while (0)
