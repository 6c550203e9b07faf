#include "cal/basic_auth.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "net/async.hpp"

namespace ruche::cal {
namespace {

constexpr int64_t kRememberMs = 5 * 60 * 1000;
constexpr size_t kMaxRemembered = 10'000;
constexpr int64_t kTouchEveryMs = 60 * 60 * 1000;  // last_used_ts is precise to the hour

Error Unauthorized(std::string message, std::string code = "M_FORBIDDEN") {
  return Error(401, std::move(code), std::move(message));
}

}  // namespace

BasicAuthenticator::BasicAuthenticator(const core::Config& config, store::Store& store,
                                       auth::Accounts& accounts, boost::asio::thread_pool& blocking)
    : store_(store),
      accounts_(accounts),
      app_passwords_(store),
      blocking_(blocking),
      failures_(config.limits.login_failures_per_user_per_second,
                config.limits.login_failures_per_user_burst) {}

std::optional<BasicUser> BasicAuthenticator::FromMemory(const std::string& key,
                                                        const std::string& localpart) {
  std::string hash;
  {
    std::lock_guard lock(mu_);
    auto it = remembered_.find(key);
    if (it == remembered_.end() || it->second.expires_ms < core::NowMs()) {
      return std::nullopt;
    }
    hash = it->second.password_hash;
  }
  auto user = accounts_.FindUser(localpart);
  if (!user || !*user || (*user)->deactivated || (*user)->password_hash != hash) {
    return std::nullopt;
  }
  return BasicUser{localpart};
}

void BasicAuthenticator::Remember(const std::string& key, Remembered entry) {
  std::lock_guard lock(mu_);
  if (remembered_.size() >= kMaxRemembered) {
    remembered_.clear();  // rare; everyone is checked once more
  }
  remembered_[key] = std::move(entry);
}

boost::asio::awaitable<Result<BasicUser>> BasicAuthenticator::Authenticate(
    const net::Request& request) {
  auto header = request.Header("Authorization");
  constexpr std::string_view kScheme = "Basic ";
  if (!header || header->size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header->begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    co_return Unauthorized("authentication required", "M_MISSING_TOKEN");
  }
  auto decoded = core::Base64Decode(header->substr(kScheme.size()));
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  // RFC 7617 user-ids hold no colon, but a full Matrix ID does ("@alice:server"): when the
  // credentials start with one of this server's IDs, the password begins after it.
  if (decoded && decoded->starts_with('@')) {
    std::string own = ":" + accounts_.server_name() + ":";
    if (size_t at = decoded->find(own); at != std::string::npos && at < colon + 1) {
      colon = at + own.size() - 1;
    }
  }
  if (!decoded || colon == std::string::npos) {
    co_return Unauthorized("malformed Basic credentials");
  }
  std::string password = decoded->substr(colon + 1);
  auto localpart = accounts_.LocalpartFrom(decoded->substr(0, colon));
  if (!localpart || password.empty() || password.size() > auth::kMaxPasswordLength) {
    co_return Unauthorized("wrong user name or password");
  }
  const int64_t now = core::NowMs();
  if (int64_t wait = failures_.Peek(*localpart, now); wait > 0) {
    co_return Error::LimitExceeded(wait);
  }
  std::string key = core::Sha256Hex(*localpart + '\0' + password);
  if (auto u = FromMemory(key, *localpart)) {
    co_return *u;
  }
  auto user = accounts_.FindUser(*localpart);
  if (!user) {
    co_return user.error();
  }
  if (*user && !(*user)->deactivated) {
    auto app = app_passwords_.Match(*localpart, password);
    if (!app) {
      co_return app.error();
    }
    if (*app) {
      bool touch = false;
      {
        std::lock_guard lock(mu_);
        int64_t& last = touched_[(*app)->id];
        if (now - last > kTouchEveryMs) {
          last = now;
          touch = true;
        }
      }
      if (touch) {
        store_.Write(auth::AppPasswords::Touch((*app)->id, now), [](Result<void>) {});
      }
      co_return BasicUser{*localpart};
    }
    std::string hash = (*user)->password_hash;
    auto verify = [&hash, &password] { return core::VerifyPassword(hash, password); };
    bool ok = co_await net::Offload<bool>(blocking_, verify);
    if (ok) {
      Remember(key, Remembered{*localpart, hash, core::NowMs() + kRememberMs});
      co_return BasicUser{*localpart};
    }
  }
  failures_.Take(*localpart, now);
  co_return Unauthorized("wrong user name or password");
}

}  // namespace ruche::cal
