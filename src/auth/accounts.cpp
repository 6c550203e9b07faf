#include "auth/accounts.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

namespace ruche::auth {

using store::Connection;

Accounts::Accounts(store::Store& store, std::string server_name)
    : store_(store), server_name_(std::move(server_name)) {}

std::string Accounts::UserId(std::string_view localpart) const {
  return "@" + std::string(localpart) + ":" + server_name_;
}

Result<void> Accounts::ValidateLocalpart(std::string_view localpart) const {
  if (localpart.empty()) {
    return Error::BadRequest("User name must not be empty", "M_INVALID_USERNAME");
  }
  if (localpart.size() + server_name_.size() + 2 > kMaxUserIdLength) {
    return Error::BadRequest("User name is too long", "M_INVALID_USERNAME");
  }
  for (char c : localpart) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '=' || c == '-' || c == '/' || c == '+';
    if (!ok) {
      return Error::BadRequest(
          "User names may only contain a-z, 0-9, and the characters . _ = - / +",
          "M_INVALID_USERNAME");
    }
  }
  return {};
}

Result<std::string> Accounts::LocalpartFrom(std::string_view user) const {
  std::string_view local = user;
  if (!user.empty() && user.front() == '@') {
    size_t colon = user.find(':');
    if (colon == std::string_view::npos) {
      return Error::BadRequest("Invalid user ID", "M_INVALID_USERNAME");
    }
    if (user.substr(colon + 1) != server_name_) {
      return Error::Forbidden("Invalid username or password");
    }
    local = user.substr(1, colon - 1);
  }
  std::string lower(local);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return lower;
}

Result<void> Accounts::ValidatePassword(std::string_view password) {
  if (password.size() > kMaxPasswordLength) {
    return Error::BadRequest("Password is too long", "M_WEAK_PASSWORD");
  }
  // Characters, not bytes: count UTF-8 lead bytes.
  size_t chars = 0;
  for (unsigned char c : password) {
    chars += (c & 0xC0) != 0x80;
  }
  if (chars < kMinPasswordLength) {
    return Error::BadRequest(
        "Password must be at least " + std::to_string(kMinPasswordLength) + " characters",
        "M_WEAK_PASSWORD");
  }
  return {};
}

Result<std::optional<UserRecord>> Accounts::FindUser(std::string_view localpart) {
  auto lease = store_.Read();
  auto row = lease->QueryOne(
      "SELECT localpart, password_hash, is_admin, deactivated FROM users WHERE localpart = ?",
      {std::string(localpart)});
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return std::optional<UserRecord>{};
  }
  const auto& r = **row;
  return std::optional<UserRecord>(UserRecord{r.Text(0), r.Text(1), r.Int(2) != 0, r.Int(3) != 0});
}

Result<bool> Accounts::HasAnyUser() {
  auto row = store_.Read()->QueryOne("SELECT 1 FROM users LIMIT 1");
  if (!row) {
    return row.error();
  }
  return row->has_value();
}

namespace {
constexpr size_t kMaxCachedSessions = 100'000;
}  // namespace

Result<Session> Accounts::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 512) {
    return Error::UnknownToken();
  }
  std::string hash = core::Sha256Hex(token);
  // The generation is read before the database: if a revocation happens meanwhile, what we read
  // may be stale and is not cached.
  uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = cache_.find(hash); it != cache_.end() && it->second.generation == generation) {
      return it->second.session;
    }
  }
  auto row = store_.Read()->QueryOne(
      "SELECT t.localpart, t.device_id, u.is_admin, u.deactivated FROM access_tokens t "
      "JOIN users u ON u.localpart = t.localpart WHERE t.token_hash = ?",
      {hash});
  if (!row) {
    return row.error();
  }
  if (!*row || (*row)->Int(3) != 0) {
    return Error::UnknownToken();
  }
  const auto& r = **row;
  Session session{r.Text(0), UserId(r.Text(0)), r.Text(1), r.Int(2) != 0};
  std::lock_guard lock(cache_mu_);
  if (generation_.load(std::memory_order_acquire) == generation) {
    if (cache_.size() >= kMaxCachedSessions) {
      cache_.clear();  // crude but bounded; refilled by the next requests
    }
    cache_[hash] = CachedSession{session, generation};
  }
  return session;
}

void Accounts::ForgetCachedSessions() {
  std::lock_guard lock(cache_mu_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  cache_.clear();
}

IssuedToken Accounts::NewToken() {
  IssuedToken t;
  t.token = "ruche_" + core::RandomToken(32);
  t.token_hash = core::Sha256Hex(t.token);
  return t;
}

std::string Accounts::NewDeviceId() { return core::RandomUpperAlpha(10); }

namespace {
Result<void> Done(Result<int64_t> r) {
  if (!r) {
    return r.error();
  }
  return {};
}
}  // namespace

store::WriteFn Accounts::CreateUser(std::string localpart, std::string password_hash,
                                    bool is_admin) {
  return [localpart = std::move(localpart), hash = std::move(password_hash),
          is_admin](Connection& c) -> Result<void> {
    auto exists = c.QueryOne("SELECT 1 FROM users WHERE localpart = ?", {localpart});
    if (!exists) {
      return exists.error();
    }
    if (*exists) {
      return Error::BadRequest("User ID already taken", "M_USER_IN_USE");
    }
    return Done(c.Execute(
        "INSERT INTO users (localpart, password_hash, is_admin, created_ms) VALUES (?, ?, ?, ?)",
        {localpart, hash, int64_t{is_admin ? 1 : 0}, core::NowMs()}));
  };
}

store::WriteFn Accounts::CreateSession(std::string localpart, std::string device_id,
                                       std::string display_name, std::string token_hash,
                                       std::string remote_ip) {
  return [=, this](Connection& c) -> Result<void> {
    ForgetCachedSessions();  // again after the commit: see the header
    int64_t now = core::NowMs();
    auto dev = c.QueryOne("SELECT 1 FROM devices WHERE localpart = ? AND device_id = ?",
                          {localpart, device_id});
    if (!dev) {
      return dev.error();
    }
    if (*dev) {
      // Logging in again with a known device id replaces that device's tokens (spec: the
      // device is re-used).
      if (auto r = c.Execute("DELETE FROM access_tokens WHERE localpart = ? AND device_id = ?",
                             {localpart, device_id});
          !r) {
        return r.error();
      }
      if (auto r = c.Execute("UPDATE devices SET last_seen_ms = ?, last_seen_ip = ? "
                             "WHERE localpart = ? AND device_id = ?",
                             {now, remote_ip, localpart, device_id});
          !r) {
        return r.error();
      }
    } else if (auto r =
                   c.Execute("INSERT INTO devices (localpart, device_id, display_name, created_ms, "
                             "last_seen_ms, last_seen_ip) VALUES (?, ?, ?, ?, ?, ?)",
                             {localpart, device_id,
                              display_name.empty() ? store::Value{} : store::Value{display_name},
                              now, now, remote_ip});
               !r) {
      return r.error();
    }
    return Done(c.Execute(
        "INSERT INTO access_tokens (token_hash, localpart, device_id, created_ms) VALUES (?, ?, "
        "?, ?)",
        {token_hash, localpart, device_id, now}));
  };
}

store::WriteFn Accounts::SetPasswordHash(std::string localpart, std::string password_hash) {
  return [=](Connection& c) -> Result<void> {
    auto r = c.Execute("UPDATE users SET password_hash = ? WHERE localpart = ?",
                       {password_hash, localpart});
    if (!r) {
      return r.error();
    }
    if (*r == 0) {
      return Error::NotFound("No such user");
    }
    return {};
  };
}

store::WriteFn Accounts::DeleteDevice(std::string localpart, std::string device_id) {
  return [=, this](Connection& c) -> Result<void> {
    ForgetCachedSessions();  // again after the commit: see the header
    if (auto r = c.Execute("DELETE FROM access_tokens WHERE localpart = ? AND device_id = ?",
                           {localpart, device_id});
        !r) {
      return r.error();
    }
    return Done(c.Execute("DELETE FROM devices WHERE localpart = ? AND device_id = ?",
                          {localpart, device_id}));
  };
}

store::WriteFn Accounts::DeleteAllDevices(std::string localpart) {
  return [=, this](Connection& c) -> Result<void> {
    ForgetCachedSessions();  // again after the commit: see the header
    if (auto r = c.Execute("DELETE FROM access_tokens WHERE localpart = ?", {localpart}); !r) {
      return r.error();
    }
    return Done(c.Execute("DELETE FROM devices WHERE localpart = ?", {localpart}));
  };
}

store::WriteFn Accounts::CreateRegistrationToken(std::string token,
                                                 std::optional<int64_t> uses_allowed,
                                                 std::optional<int64_t> expiry_ms) {
  return [=](Connection& c) -> Result<void> {
    auto r = c.Execute(
        "INSERT INTO registration_tokens (token, uses_allowed, expiry_ms, created_ms) "
        "VALUES (?, ?, ?, ?)",
        {token, uses_allowed ? store::Value{*uses_allowed} : store::Value{},
         expiry_ms ? store::Value{*expiry_ms} : store::Value{}, core::NowMs()});
    if (!r) {
      if (r.error().http_status == 409) {
        return Error::BadRequest("Token already exists");
      }
      return r.error();
    }
    return {};
  };
}

namespace {
const char* kTokenUsableSql =
    "SELECT 1 FROM registration_tokens WHERE token = ? AND "
    "(uses_allowed IS NULL OR completed < uses_allowed) AND (expiry_ms IS NULL OR expiry_ms > ?)";
}

Result<bool> Accounts::RegistrationTokenValid(std::string_view token) {
  if (token.empty() || token.size() > 64) {
    return false;
  }
  auto row = store_.Read()->QueryOne(kTokenUsableSql, {std::string(token), core::NowMs()});
  if (!row) {
    return row.error();
  }
  return row->has_value();
}

store::WriteFn Accounts::ConsumeRegistrationToken(std::string token) {
  return [token = std::move(token)](Connection& c) -> Result<void> {
    auto row = c.QueryOne(kTokenUsableSql, {token, core::NowMs()});
    if (!row) {
      return row.error();
    }
    if (!*row) {
      return Error::Forbidden("Invalid or used-up registration token");
    }
    return Done(c.Execute(
        "UPDATE registration_tokens SET completed = completed + 1 WHERE token = ?", {token}));
  };
}

Result<void> Accounts::CreateUserNow(std::string_view localpart, std::string_view password,
                                     bool is_admin, const core::PasswordHashCost& cost) {
  if (auto r = ValidateLocalpart(localpart); !r) {
    return r;
  }
  if (auto r = ValidatePassword(password); !r) {
    return r;
  }
  auto hash = core::HashPassword(password, cost);
  if (!hash) {
    return hash.error();
  }
  return store_.WriteSync(CreateUser(std::string(localpart), std::move(*hash), is_admin));
}

}  // namespace ruche::auth
