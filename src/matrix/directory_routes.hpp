#pragma once
// Room aliases (/directory/room/{alias}, /rooms/{id}/aliases), the public room directory
// (/directory/list/room/{id}, /publicRooms) and the user directory (/user_directory/search).
// Aliases live in `room_aliases`, published rooms in `public_rooms` (migration 8).
#include <optional>
#include <string>
#include <string_view>

#include "matrix/client_api.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

inline constexpr size_t kMaxAliasBytes = 255;

// Ok if `alias` is "#localpart:server_name" for our server: localpart non-empty, valid UTF-8
// without ':', NUL, controls or whitespace, whole alias at most 255 bytes. Else 400
// M_INVALID_PARAM.
Result<void> ValidateLocalAlias(std::string_view alias, std::string_view server_name);

// The room an alias points to, or nullopt.
Result<std::optional<std::string>> ResolveAlias(store::Connection& conn, std::string_view alias);

// Inside a store write: records `alias` for `room_id`. An alias already taken is
// 409 M_UNKNOWN "Room alias already taken".
Result<void> CreateAliasInWrite(store::Connection& conn, const std::string& alias,
                                const std::string& room_id, const std::string& creator);

// Inside a store write: lists `room_id` in (or removes it from) the public room directory.
Result<void> SetRoomPublishedInWrite(store::Connection& conn, const std::string& room_id,
                                     bool published);

class DirectoryRoutes {
 public:
  DirectoryRoutes(net::Router& router, MatrixDeps deps);

 private:
  boost::asio::awaitable<net::Response> PutAlias(net::Request& req);
  boost::asio::awaitable<net::Response> GetAlias(net::Request& req);
  boost::asio::awaitable<net::Response> DeleteAlias(net::Request& req);
  boost::asio::awaitable<net::Response> RoomAliases(net::Request& req);
  boost::asio::awaitable<net::Response> GetVisibility(net::Request& req);
  boost::asio::awaitable<net::Response> PutVisibility(net::Request& req);
  boost::asio::awaitable<net::Response> PublicRooms(net::Request& req);
  boost::asio::awaitable<net::Response> SearchUsers(net::Request& req);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
